using System.Text;
using System.Text.Json;
using AgVas.Data;

namespace AgVas.Tests.Data;

/// <summary>
/// AgVas.Data.Npy against files written by NumPy (tools/golden/eval_npy.py), round trips, and a corpus of corrupt
/// files. (Lives with the evaluation tests because .npy maps are the evaluator's input.)
/// </summary>
public class NpyTests
{
    private static readonly string FixtureDir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "Evaluation", "npy");

    /// <summary>The fixtures of the dtypes we read: bool, uint8, float16/32/64.</summary>
    public static IEnumerable<object[]> NumpyFiles() => Fixtures(supported: true);

    /// <summary>The fixtures of the integer dtypes, which no score map uses.</summary>
    public static IEnumerable<object[]> UnsupportedNumpyFiles() => Fixtures(supported: false);

    private static IEnumerable<object[]> Fixtures(bool supported)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(FixtureDir, "expected.json")));
        foreach (var p in doc.RootElement.GetProperty("arrays").EnumerateObject())
            if ((p.Value.GetProperty("descr").GetString()![1..] is "b1" or "u1" or "f2" or "f4" or "f8") == supported) yield return [p.Name];
    }

    [Theory]
    [MemberData(nameof(UnsupportedNumpyFiles))]
    public void IntegerDtypesAreNamedAsUnsupported(string name)
    {
        var ex = Assert.Throws<DataException>(() => Npy.Read(Path.Combine(FixtureDir, name + ".npy")));
        Assert.Contains("unsupported .npy dtype", ex.Message);
    }

    [Theory]
    [MemberData(nameof(NumpyFiles))]
    public void ReadsWhatNumpyWrites(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(FixtureDir, "expected.json")));
        var e = doc.RootElement.GetProperty("arrays").GetProperty(name);
        var array = Npy.Read(Path.Combine(FixtureDir, name + ".npy"));
        Assert.Equal(e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()), array.Shape);
        var descr = e.GetProperty("descr").GetString()!;
        Assert.Equal(descr[1..], Npy.Descr(array.Type)[1..]); // byte order is normalised to little-endian
        var values = e.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(values, array.ToDouble());
        Assert.Equal(values.Select(v => (float)v), array.ToSingle());
    }

    [Theory]
    [MemberData(nameof(NumpyFiles))]
    public void ReadSingleAgreesWithRead(string name)
    {
        var path = Path.Combine(FixtureDir, name + ".npy");
        var expected = Npy.Read(path);
        var exact = Npy.ReadSingle(path, out var shape, out var type);
        Assert.Equal(expected.Shape, shape);
        Assert.Equal(expected.Type, type);
        Assert.Equal(expected.ToSingle(), exact);
        var pooled = Npy.ReadSingle(path, System.Buffers.ArrayPool<float>.Shared, out _, out _);
        Assert.Equal(expected.ToSingle(), pooled[..exact.Length]);
        System.Buffers.ArrayPool<float>.Shared.Return(pooled);
    }

    [Fact]
    public void RoundTripsEveryWrittenType()
    {
        var path = TempPath();
        try
        {
            foreach (var array in new[]
            {
                NpyArray.FromSingle([1.5f, -2f, 3f, float.MaxValue, 0f, -0f], 2, 3),
                NpyArray.FromDouble([Math.PI, -1e300], 2),
                NpyArray.FromBytes([0, 1, 255], 3, 1, 1),
                NpyArray.FromBools([true, false], 2),
                NpyArray.FromSingle([7f]),
            })
            {
                Npy.Write(path, array);
                var bytes = File.ReadAllBytes(path);
                int headerEnd = Array.IndexOf(bytes, (byte)'\n') + 1;
                Assert.Equal(0, headerEnd % 64); // NumPy aligns the data to 64 bytes
                var back = Npy.Read(path);
                Assert.Equal(array.Type, back.Type);
                Assert.Equal(array.Shape, back.Shape);
                Assert.Equal(array.Data, back.Data);
            }
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void ManyDimensionsUseVersion2Header()
    {
        // A header longer than 65535 bytes cannot be stored in version 1.0.
        var shape = Enumerable.Repeat(1, 25000).ToArray();
        using var stream = new MemoryStream();
        Npy.Write(stream, NpyArray.FromSingle([2.5f], shape));
        Assert.Equal(2, stream.ToArray()[6]);
        stream.Position = 0;
        var back = Npy.Read(stream, "mem");
        Assert.Equal(25000, back.Shape.Count);
        Assert.Equal([2.5f], back.ToSingle());
    }

    public static IEnumerable<object[]> CorruptFiles()
    {
        var good = Bytes(NpyArray.FromSingle([1f, 2f, 3f, 4f, 5f, 6f], 2, 3));
        int headerEnd = Array.IndexOf(good, (byte)'\n') + 1;
        yield return ["empty file", Array.Empty<byte>(), "bad magic"];
        yield return ["bad magic", Encoding.ASCII.GetBytes("PK\x03\x04 this is a zip").Concat(new byte[64]).ToArray(), "bad magic"];
        yield return ["truncated header", good[..20], "truncated .npy header"];
        yield return ["truncated data", good[..(headerEnd + 10)], "truncated .npy data"];
        yield return ["trailing data", good.Concat(new byte[4]).ToArray(), "data length mismatch"];
        yield return ["version 4", Patch(good, 6, 4), "unsupported .npy format version 4.0"];
        yield return ["shape mismatch", WithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 3), }", 24), "truncated .npy data"];
        yield return ["unknown dtype", WithHeader("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", 16), "unsupported .npy dtype '<c8'"];
        yield return ["structured dtype", WithHeader("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", 8), "bad .npy header"];
        yield return ["missing key", WithHeader("{'descr': '<f4', 'shape': (2,), }", 8), "missing fortran_order"];
        yield return ["extra key", WithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1, }", 8), "bad .npy header"];
        yield return ["negative dim", WithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", 8), "non-integer"];
        yield return ["huge shape", WithHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (2000000000, 2000000000, 2000000000), }", 8), "too large"];
        yield return ["lying header length", Patch(Patch(good, 8, 0xFF), 9, 0xFF), "truncated .npy header"];
    }

    [Theory]
    [MemberData(nameof(CorruptFiles))]
    public void CorruptFilesGiveDataExceptionNamingTheFile(string what, byte[] bytes, string expected)
    {
        var path = TempPath();
        try
        {
            File.WriteAllBytes(path, bytes);
            var ex = Assert.Throws<DataException>(() => Npy.Read(path));
            Assert.StartsWith(path + ":", ex.Message);
            Assert.Contains(expected, ex.Message);
            Assert.DoesNotContain('\n', ex.Message);
            _ = what;
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void MissingFileIsNamed()
    {
        var ex = Assert.Throws<DataException>(() => Npy.Read("/nonexistent/map.npy"));
        Assert.Equal("/nonexistent/map.npy: file not found", ex.Message);
    }

    private static string TempPath() => Path.Combine(Path.GetTempPath(), $"agvas-{Guid.NewGuid():N}.npy");

    private static byte[] Bytes(NpyArray array)
    {
        using var s = new MemoryStream();
        Npy.Write(s, array);
        return s.ToArray();
    }

    private static byte[] Patch(byte[] bytes, int index, byte value)
    {
        var copy = bytes.ToArray();
        copy[index] = value;
        return copy;
    }

    private static byte[] WithHeader(string dict, int dataBytes)
    {
        var header = dict.PadRight((10 + dict.Length + 1 + 63) / 64 * 64 - 11) + "\n";
        var bytes = new List<byte> { 0x93 };
        bytes.AddRange("NUMPY"u8.ToArray());
        bytes.AddRange([1, 0, (byte)(header.Length & 0xFF), (byte)(header.Length >> 8)]);
        bytes.AddRange(Encoding.Latin1.GetBytes(header));
        bytes.AddRange(new byte[dataBytes]);
        return bytes.ToArray();
    }
}

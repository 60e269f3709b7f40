using System.Buffers.Binary;
using System.Text;

namespace AgVas.Tests.Checkpoints;

/// <summary>Raw safetensors bytes built by hand.</summary>
internal static class RawSafeTensors
{
    public static string FixturePath(params string[] parts) =>
        System.IO.Path.Combine([AppContext.BaseDirectory, "Fixtures", "Checkpoints", .. parts]);

    /// <summary>8-byte length (the header's own unless overridden), the header text, then <paramref name="data"/>.</summary>
    public static byte[] Build(string header, byte[] data, ulong? claimedLength = null)
    {
        var text = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + text.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, claimedLength ?? (ulong)text.Length);
        text.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + text.Length);
        return bytes;
    }

    public static byte[] Build(string header, int dataBytes) => Build(header, new byte[dataBytes]);
}

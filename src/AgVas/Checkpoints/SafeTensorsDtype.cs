using static TorchSharp.torch;

namespace AgVas.Checkpoints;

/// <summary>Element types of the safetensors format. The declaration order is the reference implementation's
/// (increasing alignment), which its writer uses to order tensors: do not reorder.</summary>
public enum SafeTensorsDtype
{
    Bool,
    U8,
    I8,
    F8E5M2,
    F8E4M3,
    I16,
    U16,
    F16,
    BF16,
    I32,
    U32,
    F32,
    F64,
    I64,
    U64,
}

/// <summary>Names, sizes and TorchSharp mapping of <see cref="SafeTensorsDtype"/>.</summary>
/// <remarks>
/// TorchSharp 0.107 has no unsigned 16/32/64-bit and no 8-bit float types, so loading widens them exactly:
/// U16 → Int32, U32 → Int64, F8_E4M3 and F8_E5M2 → Float32 (every fp8 value is exactly representable), and
/// U64 → Int64 when every value is below 2^63 (otherwise loading throws a <see cref="CheckpointException"/>).
/// Writing accepts only the TorchSharp types with a direct safetensors dtype.
/// </remarks>
public static class SafeTensorsDtypes
{
    private static readonly string[] HeaderNames =
        ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64"];

    // Newer revisions of the format define these; we recognise them to give a precise error.
    private static readonly HashSet<string> KnownUnsupported = ["F4", "F6_E2M3", "F6_E3M2", "F8_E8M0", "C64"];

    /// <summary>The dtype's spelling in a safetensors header ("F32", "F8_E4M3", ...).</summary>
    public static string HeaderName(this SafeTensorsDtype dtype) => HeaderNames[(int)dtype];

    /// <summary>Bytes per element.</summary>
    public static int ElementSize(this SafeTensorsDtype dtype) => dtype switch
    {
        SafeTensorsDtype.Bool or SafeTensorsDtype.U8 or SafeTensorsDtype.I8
            or SafeTensorsDtype.F8E5M2 or SafeTensorsDtype.F8E4M3 => 1,
        SafeTensorsDtype.I16 or SafeTensorsDtype.U16 or SafeTensorsDtype.F16 or SafeTensorsDtype.BF16 => 2,
        SafeTensorsDtype.I32 or SafeTensorsDtype.U32 or SafeTensorsDtype.F32 => 4,
        _ => 8,
    };

    /// <summary>Parses a header dtype name; returns null and a reason when it is unknown or unsupported.</summary>
    public static SafeTensorsDtype? TryParse(string name, out string? problem)
    {
        problem = null;
        int i = Array.IndexOf(HeaderNames, name);
        if (i >= 0) return (SafeTensorsDtype)i;
        problem = KnownUnsupported.Contains(name)
            ? $"dtype '{name}' is not supported by AgVas (TorchSharp has no such type)"
            : $"unknown dtype '{name}' (expected one of {string.Join(", ", HeaderNames)})";
        return null;
    }

    /// <summary>The TorchSharp type a tensor of this dtype loads as (see the remarks on widening).</summary>
    public static ScalarType LoadedScalarType(this SafeTensorsDtype dtype) => dtype switch
    {
        SafeTensorsDtype.Bool => ScalarType.Bool,
        SafeTensorsDtype.U8 => ScalarType.Byte,
        SafeTensorsDtype.I8 => ScalarType.Int8,
        SafeTensorsDtype.I16 => ScalarType.Int16,
        SafeTensorsDtype.U16 => ScalarType.Int32,
        SafeTensorsDtype.F16 => ScalarType.Float16,
        SafeTensorsDtype.BF16 => ScalarType.BFloat16,
        SafeTensorsDtype.I32 => ScalarType.Int32,
        SafeTensorsDtype.U32 => ScalarType.Int64,
        SafeTensorsDtype.F32 or SafeTensorsDtype.F8E4M3 or SafeTensorsDtype.F8E5M2 => ScalarType.Float32,
        SafeTensorsDtype.F64 => ScalarType.Float64,
        _ => ScalarType.Int64,
    };

    /// <summary>True when the dtype loads bit-for-bit into a TorchSharp type of the same size (no widening).</summary>
    public static bool LoadsExactly(this SafeTensorsDtype dtype) => dtype is not
        (SafeTensorsDtype.U16 or SafeTensorsDtype.U32 or SafeTensorsDtype.U64 or SafeTensorsDtype.F8E4M3 or SafeTensorsDtype.F8E5M2);

    /// <summary>The safetensors dtype that stores a TorchSharp type, or null when the format has none (complex, quantised).</summary>
    public static SafeTensorsDtype? FromScalarType(ScalarType type) => type switch
    {
        ScalarType.Bool => SafeTensorsDtype.Bool,
        ScalarType.Byte => SafeTensorsDtype.U8,
        ScalarType.Int8 => SafeTensorsDtype.I8,
        ScalarType.Int16 => SafeTensorsDtype.I16,
        ScalarType.Float16 => SafeTensorsDtype.F16,
        ScalarType.BFloat16 => SafeTensorsDtype.BF16,
        ScalarType.Int32 => SafeTensorsDtype.I32,
        ScalarType.Float32 => SafeTensorsDtype.F32,
        ScalarType.Float64 => SafeTensorsDtype.F64,
        ScalarType.Int64 => SafeTensorsDtype.I64,
        _ => null,
    };

    /// <summary>The value of each of the 256 F8_E4M3 bit patterns (OCP "E4M3FN": bias 7, no infinities,
    /// S.1111.111 is NaN), bit-identical (NaN payloads included) to torch.float8_e4m3fn's conversion to float32.</summary>
    internal static readonly float[] F8E4M3Values = BuildF8Table(exponentBits: 4, mantissaBits: 3, ieeeSpecials: false);

    /// <summary>The value of each of the 256 F8_E5M2 bit patterns (IEEE-like: bias 15, infinities and NaNs),
    /// which is exactly the upper byte of an IEEE half.</summary>
    internal static readonly float[] F8E5M2Values = BuildF8Table(exponentBits: 5, mantissaBits: 2, ieeeSpecials: true);

    private static float[] BuildF8Table(int exponentBits, int mantissaBits, bool ieeeSpecials)
    {
        var table = new float[256];
        int bias = (1 << (exponentBits - 1)) - 1, maxExp = (1 << exponentBits) - 1, maxMant = (1 << mantissaBits) - 1;
        for (int b = 0; b < 256; b++)
        {
            int sign = b >> 7, exp = (b >> mantissaBits) & maxExp, mant = b & maxMant;
            bool nan = ieeeSpecials ? exp == maxExp && mant != 0 : exp == maxExp && mant == maxMant;
            if (nan)
            {
                // As c10 (and numpy for halves) convert: sign kept, the fp8 mantissa as the top NaN payload bits.
                table[b] = BitConverter.UInt32BitsToSingle(((uint)sign << 31) | 0x7F800000u | ((uint)mant << (23 - mantissaBits)));
                continue;
            }
            double value;
            if (ieeeSpecials && exp == maxExp) value = double.PositiveInfinity;
            else if (exp == 0) value = Math.ScaleB(mant, 1 - bias - mantissaBits);
            else value = Math.ScaleB((1 << mantissaBits) + mant, exp - bias - mantissaBits);
            table[b] = (float)(sign == 1 ? -value : value);
        }
        return table;
    }
}

using System.Runtime.InteropServices;
using TorchSharp;

namespace AgVas;

/// <summary>
/// libtorch settings that TorchSharp does not expose. <see cref="DisableNnpack"/> turns off NNPACK, the optional conv
/// backend (PyTorch's <c>torch.backends.nnpack.set_flags(False)</c>): on CPUs it does not support (this project's
/// machines among them) libtorch otherwise tries it on every convolution and prints "Could not initialize NNPACK!
/// Reason: Unsupported hardware." to stderr each time, hundreds of lines per <c>agvas segment</c>. Convolutions then
/// run on oneDNN or ATen's own kernels, which they did anyway where NNPACK cannot start. The switch is libtorch's C++
/// <c>at::globalContext().setUserEnabledNNPACK(false)</c>, found by its exported (Itanium-mangled) name; where that
/// name is missing (another libtorch build) nothing changes. Idempotent and process-wide; the model class calls it.
/// </summary>
public static class LibTorchSettings
{
    private const string Library = "libtorch_cpu.so";
    private const string GlobalContext = "_ZN2at13globalContextEv";                  // at::globalContext()
    private const string SetNnpack = "_ZN2at7Context20setUserEnabledNNPACKEb";        // at::Context::setUserEnabledNNPACK(bool)
    private const string GetNnpack = "_ZNK2at7Context17userEnabledNNPACKEv";          // at::Context::userEnabledNNPACK() const

    private static int s_applied;

    /// <summary>Turns NNPACK off; returns false when this libtorch build does not export the switch.</summary>
    public static unsafe bool DisableNnpack()
    {
        if (Interlocked.Exchange(ref s_applied, 1) == 1) return NnpackEnabled() == false;
        if (!Resolve(SetNnpack, out var set) || !Resolve(GlobalContext, out var context)) return false;
        var ctx = ((delegate* unmanaged<IntPtr>)context)();
        ((delegate* unmanaged<IntPtr, byte, void>)set)(ctx, 0);
        return true;
    }

    /// <summary>libtorch's NNPACK switch, or null when this build does not export it.</summary>
    public static unsafe bool? NnpackEnabled()
    {
        if (!Resolve(GetNnpack, out var get) || !Resolve(GlobalContext, out var context)) return null;
        var ctx = ((delegate* unmanaged<IntPtr>)context)();
        return ((delegate* unmanaged<IntPtr, byte>)get)(ctx) != 0;
    }

    private static bool Resolve(string symbol, out IntPtr address)
    {
        address = IntPtr.Zero;
        if (!OperatingSystem.IsLinux()) return false;
        _ = torch.get_num_threads();                        // makes TorchSharp load libtorch (a no-op once loaded)
        // By file name: the dynamic loader returns the copy TorchSharp already loaded.
        return (NativeLibrary.TryLoad(Library, typeof(torch).Assembly, DllImportSearchPath.AssemblyDirectory, out var handle)
                || NativeLibrary.TryLoad(Library, out handle))
            && NativeLibrary.TryGetExport(handle, symbol, out address);
    }
}

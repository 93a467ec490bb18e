using System.Runtime.InteropServices;
using CsFutures.Interop.Bridge;

namespace CsFutures.Interop.Native;

/// <summary>The one symbol the natively compiled library exports by name: <c>PyInit__engine</c>, so
/// that CPython's import system loads the library (<c>cs_futures/_engine.abi3.so</c>) as the extension
/// module <c>cs_futures._engine</c>, with no ctypes. The runtime-hosted package makes the same module
/// through <see cref="NativeEntryPoints.CreateModule"/>.</summary>
internal static unsafe class NativeExports
{
    /// <summary>The module's init function (single-phase initialization, stable ABI): the C API is
    /// resolved from the process itself, which is the interpreter importing the module.</summary>
    [UnmanagedCallersOnly(EntryPoint = "PyInit__engine")]
    private static IntPtr PyInit() => EngineModule.Create(NativeLibrary.GetMainProgramHandle());
}

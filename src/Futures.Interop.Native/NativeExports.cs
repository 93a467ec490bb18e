using System.Runtime.InteropServices;
using CsFutures.Interop.Bridge;

namespace CsFutures.Interop.Native;

/// <summary>The one symbol the natively compiled library exports by name: the Python package
/// (<c>cs_futures/_loader.py</c>) finds <c>csf_describe</c> with <c>ctypes</c> where the
/// runtime-hosted package asks hostfxr for <see cref="NativeEntryPoints.Describe"/>; every other entry
/// point is reached through the addresses in the description.</summary>
internal static unsafe class NativeExports
{
    /// <summary><see cref="NativeEntryPoints.Describe"/>, exported as <c>csf_describe</c>.</summary>
    [UnmanagedCallersOnly(EntryPoint = "csf_describe")]
    private static int Describe(byte* buffer, int size) => NativeEntryPoints.DescribeInto(buffer, size);
}

using System.Runtime.InteropServices;

namespace CsFutures.Interop.Bridge;

/// <summary>.NET objects handed to Python as opaque integers (GC handles), freed by the Python
/// object that owns them.</summary>
internal static class Handles
{
    public static IntPtr New(object target) => GCHandle.ToIntPtr(GCHandle.Alloc(target));

    public static T Get<T>(IntPtr handle)
        where T : class => (T)GCHandle.FromIntPtr(handle).Target!;

    public static object? Target(IntPtr handle) => GCHandle.FromIntPtr(handle).Target;

    public static void Free(IntPtr handle) => GCHandle.FromIntPtr(handle).Free();
}

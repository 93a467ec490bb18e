using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CsFutures.Interop.Bridge;

public static unsafe partial class NativeEntryPoints
{
    private sealed class Box
    {
        public int Value = 1;
    }

    private static volatile Box? s_nothing = null; // never set: read through it on purpose

    /// <summary>wait, for the tests only (in both engines): allocates garbage for
    /// <paramref name="iterations"/> rounds, forcing a full collection every 64th, and dereferences a
    /// null object <paramref name="nullDerefs"/> times, each a hardware fault that the runtime turns
    /// into a <see cref="NullReferenceException"/>, caught here. Returns how many were caught, or on an
    /// unexpected failure (<see cref="EntryCode.Failed"/>, kept for <c>last_error</c>). Two runtimes in one process (the native engine and CoreCLR) each install
    /// signal handlers: the Python tests run this in both at once.</summary>
    private static int TestStress(int iterations, int nullDerefs)
    {
        try
        {
            long kept = 0;
            for (int i = 0; i < iterations; i++)
            {
                var garbage = new List<byte[]>();
                for (int j = 0; j < 64; j++)
                {
                    garbage.Add(new byte[128 + j]);
                }
                kept += garbage.Count;
                if (i % 64 == 63)
                {
                    GC.Collect(2, GCCollectionMode.Forced, blocking: true);
                }
            }
            int caught = 0;
            for (int i = 0; i < nullDerefs; i++)
            {
                try
                {
                    kept += ReadThrough(s_nothing);
                }
                catch (NullReferenceException)
                {
                    caught++;
                }
            }
            GC.KeepAlive(kept);
            return caught;
        }
        catch (Exception ex)
        {
            return BridgeErrors.WaitFailed(ex);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int ReadThrough(Box? box) => box!.Value; // a load through null: a hardware fault
}

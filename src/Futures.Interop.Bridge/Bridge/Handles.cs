namespace CsFutures.Interop.Bridge;

/// <summary>
/// .NET objects handed to Python as opaque integers, freed by the Python object that owns them.
/// </summary>
/// <remarks>
/// A handle is a slot index (low 32 bits, plus one, so that no handle is 0) and a sequence number
/// (high 32 bits) that changes each time a slot is reused. Unlike a raw <c>GCHandle</c>, a handle
/// that was freed, freed twice, or never issued is recognised: <see cref="Get{T}"/> throws
/// <see cref="ObjectDisposedException"/> (Python sees a <c>RuntimeError</c>) instead of reading
/// freed memory. <see cref="New"/> and <see cref="Free"/> take a lock; <see cref="Get{T}"/> does
/// not: it reads the slot's handle number, its target, then the number again, and takes the target only
/// when both reads give the handle asked for, so it never pairs a target with another handle's number
/// (a writer publishes the number after the target, and clears the number before the target). A slot is
/// a struct in the array, not an object, so a handle costs no allocation: one per task otherwise, which
/// the .NET GC then walks while the task's future lives.
/// </remarks>
internal static class Handles
{
    private static readonly Lock s_lock = new();
    private static Slot[] s_slots = new Slot[256];
    private static readonly Stack<int> s_free = new();
    // Objects with more than one live handle (copy.copy): how many handles beyond the first.
    private static readonly Dictionary<object, int> s_extra = new(ReferenceEqualityComparer.Instance);
    private static int s_used;
    private static uint s_sequence;

    /// <summary>A new handle to <paramref name="target"/>.</summary>
    public static IntPtr New(object target)
    {
        ArgumentNullException.ThrowIfNull(target);
        lock (s_lock)
        {
            if (!s_free.TryPop(out int index))
            {
                if (s_used == s_slots.Length)
                {
                    var grown = new Slot[s_slots.Length * 2];
                    Array.Copy(s_slots, grown, s_slots.Length);
                    Volatile.Write(ref s_slots, grown);
                }
                index = s_used++;
            }
            uint sequence = ++s_sequence;
            if (sequence == 0)
            {
                sequence = s_sequence = 1;
            }
            long value = ((long)sequence << 32) | (uint)(index + 1);
            ref Slot slot = ref s_slots[index];
            slot.Target = target;
            Volatile.Write(ref slot.Handle, value); // after the target: a reader that sees the number sees it
            return (IntPtr)value;
        }
    }

    /// <summary>The object behind <paramref name="handle"/>.</summary>
    /// <exception cref="ObjectDisposedException">The handle was freed or never issued.</exception>
    /// <exception cref="InvalidCastException">The object is not a <typeparamref name="T"/>.</exception>
    public static T Get<T>(IntPtr handle)
        where T : class
    {
        object target = Target(handle);
        return target as T ?? throw new InvalidCastException(
            $"cs_futures: handle 0x{(long)handle:x} is a {target.GetType().Name}, not a {typeof(T).Name}");
    }

    /// <summary>The object behind <paramref name="handle"/>, whatever its type.</summary>
    /// <exception cref="ObjectDisposedException">The handle was freed or never issued.</exception>
    public static object Target(IntPtr handle)
    {
        long value = (long)handle;
        long index = (value & 0xffffffffL) - 1;
        Slot[] slots = Volatile.Read(ref s_slots);
        if ((ulong)index < (ulong)slots.Length)
        {
            ref Slot slot = ref slots[index];
            if (Volatile.Read(ref slot.Handle) == value && Volatile.Read(ref slot.Target) is { } target
                && Volatile.Read(ref slot.Handle) == value)
            {
                return target;
            }
        }
        throw Invalid(handle);
    }

    /// <summary>A second handle to the object behind <paramref name="handle"/> (for Python's
    /// <c>copy.copy</c>); <see cref="Free"/> tells which one was the last.</summary>
    /// <exception cref="ObjectDisposedException">The handle was freed or never issued.</exception>
    public static IntPtr Copy(IntPtr handle)
    {
        lock (s_lock)
        {
            object target = Target(handle);
            IntPtr copy = New(target);
            s_extra[target] = s_extra.GetValueOrDefault(target) + 1;
            return copy;
        }
    }

    /// <summary>Frees <paramref name="handle"/>; the object is no longer reachable through it.
    /// Returns <c>true</c> when no other handle refers to the object.</summary>
    /// <exception cref="ObjectDisposedException">The handle was freed or never issued.</exception>
    public static bool Free(IntPtr handle)
    {
        long value = (long)handle;
        long index = (value & 0xffffffffL) - 1;
        lock (s_lock)
        {
            if ((ulong)index >= (ulong)s_used || s_slots[index].Handle != value)
            {
                throw Invalid(handle);
            }
            ref Slot slot = ref s_slots[index];
            object target = slot.Target!;
            Volatile.Write(ref slot.Handle, 0); // before the target: a reader that saw the number rereads it
            slot.Target = null;
            s_free.Push((int)index);
            if (!s_extra.TryGetValue(target, out int extra))
            {
                return true;
            }
            if (extra == 1)
            {
                s_extra.Remove(target);
            }
            else
            {
                s_extra[target] = extra - 1;
            }
            return false;
        }
    }

    /// <summary>Live handles, for tests.</summary>
    internal static int Count
    {
        get
        {
            lock (s_lock)
            {
                return s_used - s_free.Count;
            }
        }
    }

    private static ObjectDisposedException Invalid(IntPtr handle) => new(
        null,
        $"cs_futures: handle 0x{(long)handle:x} does not refer to a live .NET object (it was freed, or never issued)");

    /// <summary>A slot of the table: its target and its handle number (0: free).</summary>
    private struct Slot
    {
        public object? Target;
        public long Handle;
    }
}

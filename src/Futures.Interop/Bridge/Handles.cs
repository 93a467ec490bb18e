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
/// not (one array read and one comparison). Each slot holds an immutable entry, so a reader never
/// sees a target paired with another handle's number.
/// </remarks>
internal static class Handles
{
    private static readonly Lock s_lock = new();
    private static Entry?[] s_slots = new Entry?[256];
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
                    var grown = new Entry?[s_slots.Length * 2];
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
            Volatile.Write(ref s_slots[index], new Entry(target, value));
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
        Entry?[] slots = Volatile.Read(ref s_slots);
        if ((ulong)index < (ulong)slots.Length && Volatile.Read(ref slots[index]) is { } entry && entry.Handle == value)
        {
            return entry.Target;
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
            if ((ulong)index >= (ulong)s_used || s_slots[index] is not { } entry || entry.Handle != value)
            {
                throw Invalid(handle);
            }
            Volatile.Write(ref s_slots[index], null);
            s_free.Push((int)index);
            if (!s_extra.TryGetValue(entry.Target, out int extra))
            {
                return true;
            }
            if (extra == 1)
            {
                s_extra.Remove(entry.Target);
            }
            else
            {
                s_extra[entry.Target] = extra - 1;
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

    private sealed record Entry(object Target, long Handle);
}

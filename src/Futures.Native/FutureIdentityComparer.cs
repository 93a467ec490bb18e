namespace CsFutures;

/// <summary>Futures compared by reference, hashed by <see cref="Future.IdentityHash"/>: the sets of
/// <c>as_completed</c> (CPython's <c>set(fs)</c>; futures define no equality of their own) at a
/// fraction of the cost of the default comparer, which asks the runtime for the object's hash code.</summary>
internal sealed class FutureIdentityComparer<TFuture> : IEqualityComparer<TFuture>
    where TFuture : Future
{
    public static readonly FutureIdentityComparer<TFuture> Instance = new();

    private FutureIdentityComparer()
    {
    }

    public bool Equals(TFuture? x, TFuture? y) => ReferenceEquals(x, y);

    public int GetHashCode(TFuture obj) => obj.IdentityHash;
}

namespace CsFutures.Cluster;

/// <summary>Cluster addresses of the form <c>redis://[:PASSWORD@]HOST:PORT</c>: membership in Redis.</summary>
internal static class RedisAddress
{
    internal const string Scheme = "redis://";

    internal static bool IsRedis(string address) => address.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase);

    /// <summary>The StackExchange.Redis configuration string of a <c>redis://</c> address.</summary>
    /// <exception cref="ArgumentException">Not a <c>redis://HOST:PORT</c> address.</exception>
    internal static string ToConfiguration(string address)
    {
        if (!IsRedis(address))
        {
            throw new ArgumentException($"expected redis://HOST:PORT, got '{address}'", nameof(address));
        }
        string rest = address[Scheme.Length..].TrimEnd('/');
        string? password = null;
        int at = rest.LastIndexOf('@');
        if (at >= 0)
        {
            password = Uri.UnescapeDataString(rest[..at].TrimStart(':'));
            rest = rest[(at + 1)..];
        }
        if (rest.Length == 0 || rest.Contains(','))
        {
            throw new ArgumentException($"expected redis://HOST:PORT, got '{address}'", nameof(address));
        }
        return password is null ? rest : $"{rest},password={password}";
    }
}

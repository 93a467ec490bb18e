using StackExchange.Redis;

namespace CsFutures.Cluster;

/// <summary>Cluster addresses of the form <c>redis://[[USER]:PASSWORD@]HOST:PORT</c>: membership in Redis.
/// The user and password are percent-decoded (<c>%40</c> for <c>@</c>, <c>%3A</c> for <c>:</c>).</summary>
internal static class RedisAddress
{
    internal const string Scheme = "redis://";

    internal static bool IsRedis(string address) => address.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase);

    /// <summary>The StackExchange.Redis configuration string of a <c>redis://</c> address (for display and
    /// validation; the password, if any, is in it: use <see cref="ToOptions"/> to connect).</summary>
    /// <exception cref="ArgumentException">Not a <c>redis://HOST:PORT</c> address.</exception>
    internal static string ToConfiguration(string address) => ToOptions(address).ToString(includePassword: true);

    /// <summary>The StackExchange.Redis options of a <c>redis://</c> address. The password is set as an
    /// option, never through the configuration string (where a <c>,</c> or <c>=</c> in it would break).</summary>
    /// <exception cref="ArgumentException">Not a <c>redis://HOST:PORT</c> address.</exception>
    internal static ConfigurationOptions ToOptions(string address)
    {
        var (endpoint, user, password) = Parse(address);
        var options = ConfigurationOptions.Parse(endpoint);
        options.User = user;
        options.Password = password;
        return options;
    }

    /// <summary>The address without its password, for messages.</summary>
    internal static string Redact(string address)
    {
        if (!IsRedis(address))
        {
            return address;
        }
        string rest = address[Scheme.Length..];
        int at = rest.LastIndexOf('@');
        return at < 0 ? address : $"{Scheme}***@{rest[(at + 1)..]}";
    }

    private static (string Endpoint, string? User, string? Password) Parse(string address)
    {
        if (!IsRedis(address))
        {
            throw new ArgumentException($"expected redis://HOST:PORT, got '{Redact(address)}'", nameof(address));
        }
        string rest = address[Scheme.Length..].TrimEnd('/');
        string? user = null, password = null;
        int at = rest.LastIndexOf('@');
        if (at >= 0)
        {
            string credentials = rest[..at];
            rest = rest[(at + 1)..];
            int colon = credentials.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                // redis://PASSWORD@HOST:PORT: a password alone.
                password = Uri.UnescapeDataString(credentials);
            }
            else
            {
                user = colon > 0 ? Uri.UnescapeDataString(credentials[..colon]) : null;
                password = Uri.UnescapeDataString(credentials[(colon + 1)..]);
            }
        }
        int portColon = rest.LastIndexOf(':');
        if (rest.Length == 0 || rest.Contains(',') || rest.Contains('@') || rest.Contains('/')
            || (portColon >= 0 && !int.TryParse(rest[(portColon + 1)..], out _)))
        {
            throw new ArgumentException($"expected redis://HOST:PORT, got '{Redact(address)}'", nameof(address));
        }
        return (rest, user, password);
    }
}

using System.Buffers;
using System.Buffers.Binary;

namespace CsFutures.Processes;

/// <summary>
/// The wire format between a <see cref="ProcessPoolExecutor"/> and its worker processes. A worker is
/// any program that follows it; the engine never looks inside the bodies.
/// </summary>
/// <remarks>
/// <para>The worker finds a Unix-domain socket path in the environment variable
/// <see cref="SocketVariable"/>. The socket sits in a directory only the owner can open (mode 0700),
/// and its listener accepts exactly one connection and is removed: no TCP port, nothing another
/// user can reach.</para>
/// <para>Each message is a frame: a 13-byte header (little-endian <c>uint32</c> body length,
/// one byte <see cref="FrameKind"/>, <c>int64</c> task id) followed by the body.</para>
/// <para>The conversation: the pool sends <see cref="FrameKind.Init"/> (the initializer payload,
/// possibly empty); the worker answers <see cref="FrameKind.Ready"/> or
/// <see cref="FrameKind.InitFailed"/> (a UTF-8 explanation) and exits. Then, one task at a time,
/// <see cref="FrameKind.Task"/> is answered by <see cref="FrameKind.Ok"/> or
/// <see cref="FrameKind.Error"/> with the same id. <see cref="FrameKind.Stop"/>, or the end of the
/// stream, asks the worker to exit.</para>
/// </remarks>
public static class WorkerProtocol
{
    /// <summary>The environment variable that carries the socket path to a worker.</summary>
    public const string SocketVariable = "CS_FUTURES_WORKER_SOCKET";

    /// <summary>The size of a frame header.</summary>
    public const int HeaderSize = 13;

    /// <summary>The largest body accepted (2 GiB - 1, the limit of one .NET array).</summary>
    public const int MaxBodySize = 0x7FFFFFC7;

    /// <summary>Writes one frame (header and body in one write).</summary>
    internal static void Write(Stream stream, FrameKind kind, long id, ReadOnlySpan<byte> body)
    {
        int total = HeaderSize + body.Length;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(total);
        try
        {
            BinaryPrimitives.WriteUInt32LittleEndian(buffer, (uint)body.Length);
            buffer[4] = (byte)kind;
            BinaryPrimitives.WriteInt64LittleEndian(buffer.AsSpan(5), id);
            body.CopyTo(buffer.AsSpan(HeaderSize));
            stream.Write(buffer, 0, total);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The body of a <see cref="FrameKind.TracedTask"/>: the trace context, then the payload.</summary>
    internal static byte[] TracedTaskBody(string traceParent, ReadOnlySpan<byte> payload)
    {
        int n = System.Text.Encoding.ASCII.GetByteCount(traceParent);
        var body = new byte[2 + n + payload.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(body, (ushort)n);
        System.Text.Encoding.ASCII.GetBytes(traceParent, body.AsSpan(2));
        payload.CopyTo(body.AsSpan(2 + n));
        return body;
    }

    /// <summary>Splits a <see cref="FrameKind.OkTimed"/> / <see cref="FrameKind.ErrorTimed"/> body
    /// into the run's start and end (UTC) and the reply.</summary>
    internal static (DateTime Start, DateTime End) ReadTimes(byte[] body, out byte[] reply)
    {
        if (body.Length < 16)
        {
            throw new InvalidDataException("a worker sent a timed reply without its times");
        }
        long start = BinaryPrimitives.ReadInt64LittleEndian(body);
        long end = BinaryPrimitives.ReadInt64LittleEndian(body.AsSpan(8));
        reply = body.AsSpan(16).ToArray();
        return (FromUnixNanoseconds(start), FromUnixNanoseconds(end));
    }

    private static DateTime FromUnixNanoseconds(long ns) =>
        DateTime.UnixEpoch.AddTicks(ns / 100);

    /// <summary>Reads one frame, or returns false at the end of the stream.</summary>
    internal static bool TryRead(Stream stream, byte[] header, out FrameKind kind, out long id, out byte[] body)
    {
        kind = default;
        id = 0;
        body = [];
        int read = stream.ReadAtLeast(header, HeaderSize, throwOnEndOfStream: false);
        if (read < HeaderSize)
        {
            return false;
        }
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(header);
        if (length > MaxBodySize)
        {
            throw new InvalidDataException($"a worker sent a frame of {length} bytes");
        }
        kind = (FrameKind)header[4];
        id = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(5));
        body = length == 0 ? [] : new byte[length];
        return stream.ReadAtLeast(body, body.Length, throwOnEndOfStream: false) == body.Length;
    }
}

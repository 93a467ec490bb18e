using System.Runtime.InteropServices;

namespace CsFutures.Processes;

/// <summary>
/// The Linux (glibc, x86-64 and arm64 layouts) calls behind <see cref="PidfdChildProcess"/>:
/// <c>posix_spawnp</c>, <c>pidfd_open</c>, <c>pidfd_send_signal</c>, <c>waitid(P_PIDFD)</c> and
/// <c>poll</c>. Nothing here depends on SIGCHLD.
/// </summary>
internal static unsafe partial class LinuxProcessApi
{
    public const int SIGKILL = 9;
    public const int SIGPIPE = 13;
    public const int SIGTERM = 15;
    public const int SIGCHLD = 17;
    public const int SIGXFSZ = 25;

    public const int EINTR = 4;
    public const int ECHILD = 10;
    public const int ESRCH = 3;

    public const short POLLIN = 0x1;

    public const int P_PIDFD = 3;
    public const int WEXITED = 4;

    public const int CLD_EXITED = 1;
    public const int CLD_KILLED = 2;
    public const int CLD_DUMPED = 3;

    public const short POSIX_SPAWN_SETSIGDEF = 0x04;
    public const short POSIX_SPAWN_SETSIGMASK = 0x08;

    /// <summary>Bytes of glibc's <c>posix_spawnattr_t</c> (336), rounded up.</summary>
    public const int SpawnAttrSize = 512;

    /// <summary>Bytes of glibc's <c>sigset_t</c>.</summary>
    public const int SigSetSize = 128;

    /// <summary>Bytes of <c>siginfo_t</c>.</summary>
    public const int SigInfoSize = 128;

    /// <summary><c>struct pollfd</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", EntryPoint = "posix_spawnp", SetLastError = true)]
    public static partial int PosixSpawnp(out int pid, byte* file, void* fileActions, void* attr, byte** argv, byte** envp);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_init")]
    public static partial int PosixSpawnattrInit(void* attr);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_destroy")]
    public static partial int PosixSpawnattrDestroy(void* attr);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setflags")]
    public static partial int PosixSpawnattrSetflags(void* attr, short flags);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigmask")]
    public static partial int PosixSpawnattrSetsigmask(void* attr, void* sigset);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigdefault")]
    public static partial int PosixSpawnattrSetsigdefault(void* attr, void* sigset);

    [LibraryImport("libc", EntryPoint = "sigemptyset")]
    public static partial int SigEmptySet(void* sigset);

    [LibraryImport("libc", EntryPoint = "sigaddset")]
    public static partial int SigAddSet(void* sigset, int signal);

    [LibraryImport("libc", EntryPoint = "pidfd_open", SetLastError = true)]
    public static partial int PidfdOpen(int pid, uint flags);

    [LibraryImport("libc", EntryPoint = "pidfd_send_signal", SetLastError = true)]
    public static partial int PidfdSendSignal(int pidfd, int signal, void* info, uint flags);

    [LibraryImport("libc", EntryPoint = "waitid", SetLastError = true)]
    public static partial int WaitId(int idType, int id, void* info, int options);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "getpid")]
    public static partial int GetPid();
}

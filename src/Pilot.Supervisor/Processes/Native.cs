using System.Runtime.InteropServices;

namespace Pilot.Supervisor.Processes;

/// <summary>
/// The few libc calls Pilot needs (the child's steps before exec: docs/child-exec.md). Source-generated marshalling
/// only, so they are AOT-safe.
/// Linux x86_64/arm64 glibc or musl: the constants below are the Linux values.
/// </summary>
internal static partial class Native
{
    private const string Libc = "libc";

    /// <summary>The Native AOT <c>pilot</c> binary's own C functions (src/Pilot.Api/Native/main.c); a JIT build has none.</summary>
    private const string PilotNative = "pilot-native";

    public const int EPERM = 1, ESRCH = 3, EINTR = 4, EACCES = 13, ENOENT = 2, ECHILD = 10, ENOEXEC = 8, ENOTDIR = 20, ELOOP = 40, ENAMETOOLONG = 36, EINVAL = 22;
    public const int WNOHANG = 1;
    public const int PR_SET_CHILD_SUBREAPER = 36, PR_GET_CHILD_SUBREAPER = 37;
    public const int SIG_SETMASK = 2;
    public const int O_RDONLY = 0, O_CLOEXEC = 0x80000;

    /// <summary>Offset of <c>d_name</c> in <c>struct dirent</c> on 64-bit Linux (glibc and musl): ino, off, reclen, type.</summary>
    public const int DirentNameOffset = 19;

    /// <summary>Highest signal number on Linux (SIGRTMAX).</summary>
    public const int MaxSignal = 64;

    /// <summary>Size of the kernel/libc buffers we hand out: glibc's sigset_t is 128 bytes, struct sigaction 152.</summary>
    private const int SigSetBytes = 128, SigActionBytes = 256;

    [LibraryImport(PilotNative, EntryPoint = "pilot_execs_in_child")]
    private static partial int PilotExecsInChild();

    /// <summary>
    /// True in the Native AOT <c>pilot</c> binary: its execve wrapper takes the <c>__exec</c> steps in Process.Start's
    /// child and execs the program there (one exec per child, docs/child-exec.md), so the in-memory shim saves nothing.
    /// </summary>
    public static bool ExecsInChild { get; } = ProbeExecsInChild();

    private static bool ProbeExecsInChild()
    {
        try
        {
            return PilotExecsInChild() == 1;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>
    /// The <c>envp</c> the execve wrapper uses for a child started with <see cref="ChildEnvironment"/>'s marker as its
    /// whole environment (0: none). Only in the binary that <see cref="ExecsInChild"/>.
    /// </summary>
    [LibraryImport(PilotNative, EntryPoint = "pilot_set_child_environment")]
    public static partial void SetChildEnvironment(nint environment);

    /// <summary>
    /// True in the binary whose waitpid and waitid calls (the runtime's and Pilot's) go through
    /// src/Pilot.Api/Native/reaped-children.c: <see cref="TakeReaped"/> and <see cref="ExitedChildSeen"/> work there.
    /// </summary>
    public static bool KnowsReapedChildren => ExecsInChild;

    /// <summary>
    /// Moves up to <paramref name="capacity"/> pids reaped by waitpid since the last call, oldest first, into
    /// <paramref name="pids"/>: how many, or -1 when some were lost (more than the native record holds), so the caller
    /// must ask every child. Only where <see cref="KnowsReapedChildren"/>.
    /// </summary>
    [LibraryImport(PilotNative, EntryPoint = "pilot_take_reaped")]
    public static unsafe partial int TakeReaped(int* pids, int capacity);

    /// <summary>
    /// The exited child the latest <c>waitid(P_ALL, …WNOWAIT)</c> found and nobody has reaped since; 0 when it found
    /// none. Only where <see cref="KnowsReapedChildren"/>.
    /// </summary>
    [LibraryImport(PilotNative, EntryPoint = "pilot_exited_child_seen")]
    public static partial int ExitedChildSeen();

    [LibraryImport(Libc, EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    [LibraryImport(Libc, EntryPoint = "setpgid", SetLastError = true)]
    public static partial int SetPgid(int pid, int pgid);

    [LibraryImport(Libc, EntryPoint = "getpid")]
    public static partial int GetPid();

    [LibraryImport(Libc, EntryPoint = "geteuid")]
    public static partial uint GetEuid();

    [LibraryImport(Libc, EntryPoint = "getegid")]
    public static partial uint GetEgid();

    [LibraryImport(Libc, EntryPoint = "setgroups", SetLastError = true)]
    public static partial int SetGroups(nuint size, uint[] groups);

    [LibraryImport(Libc, EntryPoint = "setgid", SetLastError = true)]
    public static partial int SetGid(uint gid);

    [LibraryImport(Libc, EntryPoint = "setuid", SetLastError = true)]
    public static partial int SetUid(uint uid);

    [LibraryImport(Libc, EntryPoint = "getpgid", SetLastError = true)]
    public static partial int GetPgid(int pid);

    [LibraryImport(Libc, EntryPoint = "prctl", SetLastError = true)]
    public static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    public const int P_ALL = 0, WEXITED = 4, WNOWAIT = 0x01000000;

    /// <summary>siginfo_t is 128 bytes on Linux; <c>si_pid</c> sits at byte 16 on 64-bit targets (after signo, errno, code and padding).</summary>
    public const int SigInfoBytes = 128, SigInfoPidOffset = 16;

    [LibraryImport(Libc, EntryPoint = "waitid", SetLastError = true)]
    public static unsafe partial int WaitId(int idType, int id, byte* info, int options);

    [LibraryImport(Libc, EntryPoint = "waitpid", SetLastError = true)]
    public static partial int WaitPid(int pid, out int status, int options);

    [LibraryImport(Libc, EntryPoint = "execvp", SetLastError = true)]
    private static unsafe partial int ExecVp(byte* file, byte** argv);

    [LibraryImport(Libc, EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport(Libc, EntryPoint = "dup2", SetLastError = true)]
    private static partial int Dup2(int oldFd, int newFd);

    [LibraryImport(Libc, EntryPoint = "sigprocmask", SetLastError = true)]
    private static unsafe partial int SigProcMask(int how, byte* set, byte* oldSet);

    [LibraryImport(Libc, EntryPoint = "sigaction", SetLastError = true)]
    private static unsafe partial int SigAction(int signal, byte* action, byte* oldAction);

    [LibraryImport(Libc, EntryPoint = "signal", SetLastError = true)]
    private static partial nint Signal(int signal, nint handler);

    [LibraryImport(Libc, EntryPoint = "opendir")]
    public static unsafe partial nint OpenDir(byte* name);

    [LibraryImport(Libc, EntryPoint = "readdir")]
    public static unsafe partial byte* ReadDir(nint directory);

    [LibraryImport(Libc, EntryPoint = "rewinddir")]
    public static partial void RewindDir(nint directory);

    [LibraryImport(Libc, EntryPoint = "dirfd")]
    public static partial int DirFd(nint directory);

    [LibraryImport(Libc, EntryPoint = "closedir")]
    public static partial int CloseDir(nint directory);

    [LibraryImport(Libc, EntryPoint = "openat")]
    public static unsafe partial int OpenAt(int directory, byte* path, int flags);

    [LibraryImport(Libc, EntryPoint = "read")]
    public static unsafe partial nint Read(int fd, byte* buffer, nint count);

    [LibraryImport(Libc, EntryPoint = "close")]
    public static partial int Close(int fd);

    [LibraryImport(Libc, EntryPoint = "write", SetLastError = true)]
    public static unsafe partial nint Write(int fd, byte* buffer, nint count);

    public const uint MFD_CLOEXEC = 0x1, MFD_ALLOW_SEALING = 0x2, MFD_EXEC = 0x10;
    public const int F_ADD_SEALS = 1033, F_SEAL_SEAL = 0x1, F_SEAL_SHRINK = 0x2, F_SEAL_GROW = 0x4, F_SEAL_WRITE = 0x8;

    [LibraryImport(Libc, EntryPoint = "memfd_create", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int MemfdCreate(string name, uint flags);

    [LibraryImport(Libc, EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int command, int argument);

    public static int LastError => Marshal.GetLastPInvokeError();

    /// <summary>
    /// Unblocks every signal for the calling thread and puts every <em>ignored</em> signal back to its default.
    /// Caught signals need no work: exec resets handlers itself; only SIG_IGN survives exec (the runtime ignores SIGPIPE).
    /// </summary>
    public static unsafe void ResetSignalsForExec()
    {
        for (var sig = 1; sig <= MaxSignal; sig++)
        {
            if (sig is 9 or 19 or 32 or 33)
            {
                continue; // SIGKILL, SIGSTOP cannot change; 32/33 belong to glibc's threading.
            }

            RestoreDefaultIfIgnored(sig);
        }

        byte* empty = stackalloc byte[SigSetBytes];
        new Span<byte>(empty, SigSetBytes).Clear();
        _ = SigProcMask(SIG_SETMASK, empty, null);
    }

    /// <summary>Puts <paramref name="signal"/> back to its default action if it is ignored (SIG_IGN); a handler stays.</summary>
    public static unsafe void RestoreDefaultIfIgnored(int signal)
    {
        const nint sigDfl = 0, sigIgn = 1;
        byte* old = stackalloc byte[SigActionBytes];
        new Span<byte>(old, SigActionBytes).Clear();
        // sa_handler is the first field of struct sigaction on Linux (glibc and musl).
        if (SigAction(signal, null, old) == 0 && *(nint*)old == sigIgn)
        {
            _ = Signal(signal, sigDfl);
        }
    }

    /// <summary>
    /// Makes <c>/dev/null</c> the calling process's stdin, as Go's os/exec gives every v3 job: a job reading stdin
    /// (<c>tail -f</c> with no file) sees a quiet device, not a closed pipe. Without <c>/dev/null</c> stdin is closed.
    /// </summary>
    public static void StdinFromDevNull()
    {
        const int readOnly = 0;
        var fd = Open("/dev/null", readOnly);
        if (fd < 0)
        {
            _ = Close(0);
            return;
        }
        if (fd != 0)
        {
            _ = Dup2(fd, 0);
            _ = Close(fd);
        }
    }

    /// <summary>execvp(file, argv). Returns only on failure, with errno.</summary>
    public static unsafe int ExecVp(string file, IReadOnlyList<string> argv)
    {
        var fileBytes = Utf8Z(file);
        var handles = new GCHandle[argv.Count];
        var pointers = new nint[argv.Count + 1];
        try
        {
            for (var i = 0; i < argv.Count; i++)
            {
                handles[i] = GCHandle.Alloc(Utf8Z(argv[i]), GCHandleType.Pinned);
                pointers[i] = handles[i].AddrOfPinnedObject();
            }

            fixed (byte* f = fileBytes)
            fixed (nint* p = pointers)
            {
                _ = ExecVp(f, (byte**)p);
                return LastError;
            }
        }
        finally
        {
            foreach (var h in handles)
            {
                if (h.IsAllocated)
                {
                    h.Free();
                }
            }
        }
    }

    private static byte[] Utf8Z(string s)
    {
        var bytes = new byte[System.Text.Encoding.UTF8.GetByteCount(s) + 1];
        System.Text.Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }

    /// <summary>strerror text as Go prints it (lower case, e.g. "no such file or directory").</summary>
    public static string ErrnoText(int errno) => errno switch
    {
        EPERM => "operation not permitted",
        ENOENT => "no such file or directory",
        EACCES => "permission denied",
        ENOEXEC => "exec format error",
        ENOTDIR => "not a directory",
        ELOOP => "too many levels of symbolic links",
        ENAMETOOLONG => "file name too long",
        _ => $"errno {errno}",
    };
}

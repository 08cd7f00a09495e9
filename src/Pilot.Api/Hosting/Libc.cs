using System.Runtime.InteropServices;

namespace Pilot.Api.Hosting;

/// <summary>
/// Every libc call of the <c>pilot</c> executable's own code, in one place (the supervisor library keeps its own for
/// processes). Source-generated marshalling only, so they are AOT-safe; the constants are Linux's.
/// </summary>
internal static unsafe partial class Libc
{
    private const string Library = "libc";

    public const int F_DUPFD_CLOEXEC = 1030;
    public const int EFD_CLOEXEC = 0x80000;
    public const short POLLIN = 1;
    public const int MADV_DONTNEED = 4, MADV_PAGEOUT = 21;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int EINTR = 4, EAGAIN = 11, ECONNABORTED = 103;

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport(Library, EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport(Library, EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initial, int flags);

    [LibraryImport(Library, EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, ulong count, int timeout);

    [LibraryImport(Library, EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, void* buffer, nuint count);

    [LibraryImport(Library, EntryPoint = "accept4", SetLastError = true)]
    public static partial int Accept4(int socket, void* address, void* addressLength, int flags);

    [LibraryImport(Library, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport(Library, EntryPoint = "madvise", SetLastError = true)]
    public static partial int Madvise(nint address, nuint length, int advice);

    [LibraryImport(Library, EntryPoint = "lstat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int LStat(string path, byte* stat);
}

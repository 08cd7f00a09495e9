using System.Runtime.InteropServices;

namespace Pilot.Supervisor.Notify;

/// <summary>
/// The libc calls the notify socket needs beyond what .NET's <see cref="System.Net.Sockets.Socket"/> offers: recvmsg with
/// its ancillary data (the sender's credentials, descriptors sent along), mkdir, chmod and chown. Source-generated marshalling, so
/// AOT-safe; bound at link time in the binary (DirectPInvoke libc), glibc or musl. Layouts are Linux 64-bit.
/// </summary>
internal static unsafe partial class NotifyInterop
{
    private const string Libc = "libc";

    public const int SOL_SOCKET = 1, SO_PASSCRED = 16, SCM_RIGHTS = 1, SCM_CREDENTIALS = 2;
    public const int MSG_CTRUNC = 0x8, MSG_TRUNC = 0x20, MSG_DONTWAIT = 0x40, MSG_CMSG_CLOEXEC = 0x40000000;
    public const int EAGAIN = 11, EINTR = 4;

    /// <summary><c>struct cmsghdr</c>: an 8-byte length (the kernel's size_t), level, type; the data follows at 16.</summary>
    public const int CmsgHeaderBytes = 16;

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    /// <summary>
    /// <c>struct msghdr</c> (56 bytes). musl declares <c>msg_iovlen</c> and <c>msg_controllen</c> as an int plus
    /// padding; on little-endian targets the 8-byte fields here write the same bytes.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [LibraryImport(Libc, EntryPoint = "recvmsg", SetLastError = true)]
    public static partial nint RecvMsg(int socket, MsgHdr* message, int flags);

    [LibraryImport(Libc, EntryPoint = "chown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int Chown(string path, uint uid, uint gid);

    [LibraryImport(Libc, EntryPoint = "chmod", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int Chmod(string path, uint mode);

    [LibraryImport(Libc, EntryPoint = "mkdir", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int Mkdir(string path, uint mode);

    [LibraryImport(Libc, EntryPoint = "close")]
    public static partial int Close(int fd);
}

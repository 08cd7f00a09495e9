using System.Runtime.InteropServices;
using Pilot.Api.Hosting;

namespace Pilot.Api.Control;

/// <summary>What is at a path, from <c>lstat</c> (a symbolic link is not followed).</summary>
internal enum SocketPathKind
{
    Nothing,
    Socket,
    RegularFile,
    Directory,
    SymbolicLink,
    Other,
    /// <summary>lstat failed for another reason than "no such file", or the platform's <c>struct stat</c> is not known here.</summary>
    Unknown,
}

/// <summary>
/// File type lookup: .NET's file APIs do not tell a socket from a regular file, and the control socket's stale-file
/// removal must never delete anything but a socket.
/// </summary>
internal static unsafe class SocketPathKinds
{
    private const int ENOENT = 2, ENOTDIR = 20;
    private const uint TypeMask = 0xF000, SocketType = 0xC000, LinkType = 0xA000, RegularType = 0x8000, DirectoryType = 0x4000;
    /// <summary>Larger than any Linux <c>struct stat</c> (144 bytes on x86_64, 128 on the generic 64-bit layout).</summary>
    private const int StatBytes = 256;

    public static SocketPathKind Of(string path)
    {
        // st_mode sits after st_dev, st_ino and (x86_64 only) a 64-bit st_nlink.
        int? modeOffset = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 24,
            Architecture.Arm64 or Architecture.RiscV64 or Architecture.LoongArch64 => 16,
            _ => null,
        };
        if (modeOffset is not { } offset)
        {
            return SocketPathKind.Unknown;
        }
        byte* stat = stackalloc byte[StatBytes];
        if (Libc.LStat(path, stat) != 0)
        {
            return Marshal.GetLastPInvokeError() is ENOENT or ENOTDIR ? SocketPathKind.Nothing : SocketPathKind.Unknown;
        }
        return (*(uint*)(stat + offset) & TypeMask) switch
        {
            SocketType => SocketPathKind.Socket,
            RegularType => SocketPathKind.RegularFile,
            DirectoryType => SocketPathKind.Directory,
            LinkType => SocketPathKind.SymbolicLink,
            _ => SocketPathKind.Other,
        };
    }

    public static string Describe(SocketPathKind kind) => kind switch
    {
        SocketPathKind.RegularFile => "a regular file",
        SocketPathKind.Directory => "a directory",
        SocketPathKind.SymbolicLink => "a symbolic link",
        SocketPathKind.Other => "a device or FIFO",
        _ => "something Pilot cannot identify",
    };
}

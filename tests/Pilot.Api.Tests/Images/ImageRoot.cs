using Pilot.Api.Tests.Support;

namespace Pilot.Api.Tests.Images;

/// <summary>
/// A container root built by the test from Debian packages, with no glibc in it: Pilot's shipped (static) binary as
/// <c>/bin/pilot</c> beside either busybox-static and musl's loader and libc (what an Alpine image has), or nothing but one
/// static job program (<c>FROM scratch</c>). Deleted on dispose.
/// </summary>
internal sealed class ImageRoot : IDisposable
{
    /// <summary>The static busybox of Debian's busybox-static (scripts/install-deps test).</summary>
    private const string Busybox = "/bin/busybox";

    private static readonly string[] Applets =
        ["sh", "echo", "cat", "sleep", "true", "false", "id", "grep", "sed", "httpd", "nc", "wget", "kill", "ls", "env", "mv", "test"];

    private ImageRoot(string path, bool mountsProc, bool mountsDev)
    {
        Path = path;
        MountsProc = mountsProc;
        MountsDev = mountsDev;
    }

    public string Path { get; }

    /// <summary>Whether <c>/proc</c> is mounted in the root (a runtime does that; a bare chroot does not).</summary>
    public bool MountsProc { get; }

    /// <summary>Whether <c>/dev/null</c>, <c>/dev/zero</c> and <c>/dev/urandom</c> are there.</summary>
    public bool MountsDev { get; }

    /// <summary>An Alpine-like root: busybox-static's applets in <c>/bin</c>, musl's loader and libc, accounts, no glibc.</summary>
    public static ImageRoot WithoutGlibc()
    {
        var root = Create(mountsProc: true, mountsDev: true);
        foreach (var applet in Applets)
        {
            File.CreateSymbolicLink(root.HostPath("/bin/" + applet), "busybox");
        }
        File.Copy(Busybox, root.HostPath("/bin/busybox"));
        // What an Alpine image's programs are linked against (Debian's musl package): present, and nothing of glibc.
        Directory.CreateDirectory(root.HostPath("/lib"));
        File.Copy(Resolve("/lib/ld-musl-x86_64.so.1"), root.HostPath("/lib/ld-musl-x86_64.so.1"));
        root.Write("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n");
        root.Write("/etc/group", "root:x:0:\napp:x:1000:\nstaff:x:50:app\n");
        root.Write("/etc/hosts", "127.0.0.1 localhost\n");
        return root;
    }

    /// <summary>A <c>FROM scratch</c> root: <c>/bin/pilot</c> and <c>/busybox</c> (static; run by applet name), nothing else.</summary>
    public static ImageRoot Scratch(bool mountsProc = true, bool mountsDev = true)
    {
        var root = Create(mountsProc, mountsDev);
        File.Copy(Busybox, root.HostPath("/busybox"));
        return root;
    }

    private static ImageRoot Create(bool mountsProc, bool mountsDev)
    {
        var binary = Checkout.PilotBinary();
        if (StaticElf.Interpreter(binary) is { } interpreter)
        {
            throw new InvalidOperationException(
                $"{binary} needs the loader {interpreter}: these tests run the shipped static binary (./scripts/publish, then PILOT_BIN=artifacts/pilot)");
        }
        var root = new ImageRoot(Directory.CreateTempSubdirectory("pilot-root-").FullName, mountsProc, mountsDev);
        // An image's / is 0755 (a temp dir is 0700, which a job run as another user could not even enter), /tmp 1777.
        File.SetUnixFileMode(root.Path, (UnixFileMode)0b111_101_101);
        Directory.CreateDirectory(root.HostPath("/bin"));
        Directory.CreateDirectory(root.HostPath("/tmp"), (UnixFileMode)0b1_111_111_111);
        File.Copy(binary, root.HostPath("/bin/pilot"));
        if (mountsProc)
        {
            Directory.CreateDirectory(root.HostPath("/proc"));
        }
        if (mountsDev)
        {
            Directory.CreateDirectory(root.HostPath("/dev"));
            foreach (var device in Devices)
            {
                File.WriteAllText(root.HostPath("/dev/" + device), "");
            }
        }
        return root;
    }

    /// <summary>Bind-mounted from the host's <c>/dev</c> (a runtime gives a container these).</summary>
    public static readonly string[] Devices = ["null", "zero", "urandom"];

    /// <summary>The host's path of <paramref name="pathInRoot"/>.</summary>
    public string HostPath(string pathInRoot) => System.IO.Path.Combine(Path, pathInRoot.TrimStart('/'));

    public void Write(string pathInRoot, string text)
    {
        var path = HostPath(pathInRoot);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    /// <summary>Every file in the root whose name is glibc's (its loader, libc.so.6, an NSS module).</summary>
    public IEnumerable<string> GlibcFiles() =>
        Directory.EnumerateFiles(Path, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Where(f => System.IO.Path.GetFileName(f) is var name && (name.StartsWith("ld-linux", StringComparison.Ordinal)
                || name.StartsWith("libc.so", StringComparison.Ordinal) || name.StartsWith("libnss_", StringComparison.Ordinal)));

    private static string Resolve(string path) => new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A mount of the root's namespace may linger a moment after Pilot ended; the temp dir is cleaned later.
        }
    }
}

/// <summary>Reads an ELF executable's program headers.</summary>
internal static class StaticElf
{
    /// <summary>The dynamic loader the executable asks for (PT_INTERP); null for a static executable.</summary>
    public static string? Interpreter(string path)
    {
        var elf = File.ReadAllBytes(path);
        const uint PtInterp = 3;
        var headers = BitConverter.ToInt64(elf, 0x20);
        var size = BitConverter.ToUInt16(elf, 0x36);
        var count = BitConverter.ToUInt16(elf, 0x38);
        for (var i = 0; i < count; i++)
        {
            var header = (int)headers + (i * size);
            if (BitConverter.ToUInt32(elf, header) == PtInterp)
            {
                var offset = (int)BitConverter.ToInt64(elf, header + 8);
                var length = (int)BitConverter.ToInt64(elf, header + 32);
                return System.Text.Encoding.ASCII.GetString(elf, offset, length).TrimEnd('\0');
            }
        }
        return null;
    }
}

using System.Globalization;

namespace Pilot.Supervisor.Processes;

/// <summary>
/// The fast exec shim (<c>Native/exec-shim.c</c>): a libc-free program, embedded in Pilot at build time, written once
/// into a sealed memfd and started as <c>/proc/self/fd/N PILOT PROGRAM ARGS...</c>. It does what
/// <c>pilot __exec</c> does (own process group, default signals, /dev/null stdin, execvp) in a few system calls,
/// instead of a second start of Pilot's binary with its loader and libc (≈1 ms per child on the CI machine), and
/// hands anything unusual to <c>PILOT __exec</c>, so errors read the same.
/// </summary>
/// <remarks>
/// The memfd is close-on-exec: the child still has it while the kernel opens <c>/proc/self/fd/N</c> (an ELF program
/// is opened before descriptors close; only a script could not be), and no job inherits it. Unavailable (null
/// <see cref="Path"/>) when the build embedded none (not x86-64), <c>/proc</c> is not mounted, or the kernel refuses
/// memfds; the launcher then uses <c>pilot __exec</c>, and from the first time an exec of it fails (a policy against
/// executing memfds), too.
/// </remarks>
public sealed class MemoryExecShim
{
    private const string ResourceName = "Pilot.Supervisor.exec-shim";
    private static readonly Lazy<MemoryExecShim> Created = new(Create, LazyThreadSafetyMode.ExecutionAndPublication);
    private readonly string? _path;
    private volatile string? _unavailable;

    /// <summary>The shim of this process, created on first use.</summary>
    public static MemoryExecShim Shared => Created.Value;

    /// <summary>A shim at <paramref name="path"/> (tests), or an unavailable one with the reason.</summary>
    internal MemoryExecShim(string? path, string? unavailable = null)
    {
        _path = path;
        _unavailable = path is null ? unavailable ?? "no shim" : null;
    }

    /// <summary>The path to start the shim by, or null when it cannot be used here.</summary>
    public string? Path => _unavailable is null ? _path : null;

    /// <summary>Why <see cref="Path"/> is null (for the log); null while it is usable.</summary>
    public string? Unavailable => _unavailable;

    /// <summary>An exec of the shim failed: every later child uses <c>pilot __exec</c>.</summary>
    public void Refuse(string reason) => _unavailable = reason;

    private static MemoryExecShim Create()
    {
        // The library is built once for every runtime (it has no runtime identifier of its own), so an arm64 Pilot
        // may carry the x86-64 shim: it would not run there.
        if (System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.X64)
        {
            return new(null, "the in-memory exec shim is x86-64 only");
        }
        using var program = typeof(MemoryExecShim).Assembly.GetManifestResourceStream(ResourceName);
        if (program is null)
        {
            return new(null, "this build has no in-memory exec shim (it is built for x86-64 only)");
        }
        var bytes = new byte[program.Length];
        program.ReadExactly(bytes);

        // MFD_EXEC: kernels with vm.memfd_noexec = 1 make memfds non-executable unless asked; older kernels refuse the flag.
        var fd = Native.MemfdCreate("pilot-exec-shim", Native.MFD_CLOEXEC | Native.MFD_ALLOW_SEALING | Native.MFD_EXEC);
        if (fd < 0 && Native.LastError == Native.EINVAL)
        {
            fd = Native.MemfdCreate("pilot-exec-shim", Native.MFD_CLOEXEC | Native.MFD_ALLOW_SEALING);
        }
        if (fd < 0)
        {
            return new(null, $"memfd_create: {Native.ErrnoText(Native.LastError)}");
        }
        if (!WriteAll(fd, bytes)
            || Native.Fcntl(fd, Native.F_ADD_SEALS, Native.F_SEAL_WRITE | Native.F_SEAL_GROW | Native.F_SEAL_SHRINK | Native.F_SEAL_SEAL) != 0)
        {
            var error = Native.ErrnoText(Native.LastError);
            _ = Native.Close(fd);
            return new(null, $"writing the memfd: {error}");
        }
        var path = string.Create(CultureInfo.InvariantCulture, $"/proc/self/fd/{fd}");
        if (!File.Exists(path))
        {
            _ = Native.Close(fd);
            return new(null, "/proc is not mounted");
        }
        return new(path);
    }

    private static unsafe bool WriteAll(int fd, byte[] bytes)
    {
        fixed (byte* start = bytes)
        {
            for (nint done = 0; done < bytes.Length;)
            {
                var written = Native.Write(fd, start + done, bytes.Length - done);
                if (written <= 0)
                {
                    return false;
                }
                done += written;
            }
        }
        return true;
    }
}

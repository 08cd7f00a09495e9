using System.Diagnostics;
using System.Globalization;
using Pilot.Api.Tests.Support;

namespace Pilot.Api.Tests.Images;

/// <summary>
/// The real static <c>pilot</c> as PID 1 of its own pid namespace, chrooted into an <see cref="ImageRoot"/> with
/// <c>/proc</c> and <c>/dev</c> mounted as a container runtime would (in a private mount namespace):
/// <c>unshare --pid --fork --mount</c>, then <c>chroot ROOT /bin/pilot -config /etc/pilot.json5</c>. Clients run inside
/// the root too (<see cref="ClientAsync"/>).
/// </summary>
internal sealed partial class RootedPilot : IAsyncDisposable
{
    public const string ConfigPath = "/etc/pilot.json5";

    private readonly CapturedPilot _unshare;

    private RootedPilot(ImageRoot root, CapturedPilot unshare)
    {
        Root = root;
        _unshare = unshare;
    }

    public ImageRoot Root { get; }

    /// <summary>Pilot's pid as the host sees it (inside, it is 1).</summary>
    public int HostPid { get; private set; }

    public IReadOnlyList<string> Lines => _unshare.Lines;

    public string Output => _unshare.Output;

    /// <summary>Writes <paramref name="config"/> to the root's <c>/etc/pilot.json5</c> and starts Pilot on it.</summary>
    public static async Task<RootedPilot> StartAsync(ImageRoot root, string config, CancellationToken cancellationToken, string arguments = "")
    {
        root.Write(ConfigPath, config);
        var mounts = new List<string>();
        if (root.MountsProc)
        {
            mounts.Add("mount -t proc proc \"$1/proc\"");
        }
        if (root.MountsDev)
        {
            mounts.AddRange(ImageRoot.Devices.Select(d => $"mount --bind /dev/{d} \"$1/dev/{d}\""));
        }
        mounts.Add($"exec chroot \"$1\" /bin/pilot -config {ConfigPath} {arguments}");
        var start = new ProcessStartInfo("unshare") { WorkingDirectory = root.Path };
        foreach (var arg in (string[])["--pid", "--fork", "--mount", "--kill-child", "/bin/sh", "-c", string.Join(" && ", mounts), "root-setup", root.Path])
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment.Remove("CONTAINERPILOT");
        var pilot = new RootedPilot(root, CapturedPilot.Start(start));
        try
        {
            pilot.HostPid = await pilot.FindPilotAsync(cancellationToken);
        }
        catch (InvalidOperationException) when (pilot._unshare.HasExited && arguments.Length > 0)
        {
            // A run to its end (-validate) may be over before it is seen: its exit code and output are what count.
        }
        catch
        {
            await pilot.DisposeAsync();
            throw;
        }
        return pilot;
    }

    /// <summary>The child of <c>unshare</c> once it has exec'd the root's <c>/bin/pilot</c>.</summary>
    private async Task<int> FindPilotAsync(CancellationToken cancellationToken)
    {
        var binary = Root.HostPath("/bin/pilot");
        while (true)
        {
            var children = ReadOrEmpty($"/proc/{_unshare.Pid}/task/{_unshare.Pid}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries);
            foreach (var child in children)
            {
                var pid = int.Parse(child, CultureInfo.InvariantCulture);
                try
                {
                    if (new FileInfo($"/proc/{pid}/exe").ResolveLinkTarget(returnFinalTarget: false)?.FullName == binary)
                    {
                        return pid;
                    }
                }
                catch (IOException)
                {
                }
                catch (UnauthorizedAccessException)
                {
                }
            }
            if (_unshare.HasExited)
            {
                throw new InvalidOperationException($"pilot did not start in the root ({_unshare.ExitCode}):\n{Output}");
            }
            await Task.Delay(10, cancellationToken);
        }
    }

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    /// <summary>
    /// <c>pilot -config /etc/pilot.json5 ARGS</c> in Pilot's root, mount and pid namespaces, as <c>docker exec</c> runs
    /// it: the operator's client inside the container.
    /// </summary>
    public Task<PilotProcess.Outcome> ClientAsync(CancellationToken cancellationToken, params string[] args) =>
        RunInRootAsync(cancellationToken, ["/bin/pilot", "-config", ConfigPath, .. args]);

    /// <summary>Runs a program of the root inside the container (Pilot's root, mount and pid namespaces).</summary>
    public Task<PilotProcess.Outcome> RunInRootAsync(CancellationToken cancellationToken, params string[] command) =>
        PilotProcess.RunProgramAsync("nsenter",
            ["--target", HostPid.ToString(CultureInfo.InvariantCulture), "--mount", "--pid", "--root", "--wd=/", "--", .. command], cancellationToken);

    public void Signal(int signal) => Native.Kill(HostPid, signal);

    public Task<string> WaitForLineAsync(string text, CancellationToken cancellationToken, int occurrences = 1) =>
        _unshare.WaitForLineAsync(text, cancellationToken, occurrences);

    /// <summary>Pilot's exit code (<c>unshare --fork</c> exits with its child's).</summary>
    public Task<int> WaitForExitAsync(CancellationToken cancellationToken) => _unshare.WaitForExitAsync(cancellationToken);

    /// <summary>Pilot's children as the host sees them: state (<c>Z</c> for a zombie) and command line.</summary>
    public IReadOnlyList<(int Pid, char State, string CommandLine)> Children()
    {
        var children = new List<(int, char, string)>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            // "pid (comm) S ppid ...": the fields after the last ')' are the state, then the parent's pid.
            var stat = ReadOrEmpty(directory + "/stat");
            var end = stat.LastIndexOf(')');
            var fields = end > 0 ? stat[(end + 2)..].Split(' ') : [];
            if (fields.Length > 1 && fields[1] == HostPid.ToString(CultureInfo.InvariantCulture))
            {
                var commandLine = ReadOrEmpty(directory + "/cmdline").TrimEnd('\0').Replace('\0', ' ');
                children.Add((int.Parse(System.IO.Path.GetFileName(directory), CultureInfo.InvariantCulture), fields[0][0], commandLine));
            }
        }
        return children;
    }

    public async ValueTask DisposeAsync() => await _unshare.DisposeAsync();

    private static partial class Native
    {
        [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
        public static partial int Kill(int pid, int signal);
    }
}

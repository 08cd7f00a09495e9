using System.ComponentModel;
using System.Diagnostics;
using Pilot.Supervisor.Config;

namespace Pilot.Supervisor.Processes;

public sealed record ProcessLauncherOptions
{
    /// <summary>The executable that understands <c>__exec</c> (docs/child-exec.md); default: this process's own binary.</summary>
    public string? ShimPath { get; init; }

    /// <summary>How long output may keep flowing after the leader exited before reading stops (a daemonised grandchild holding the pipe).</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(2);

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>The managed-pid set shared with the <see cref="OrphanReaper"/>.</summary>
    public ManagedChildren Children { get; init; } = ManagedChildren.Shared;

    /// <summary>
    /// The in-memory shim children start through while it works, with <see cref="ShimPath"/> as its fallback;
    /// null: always <c>ShimPath __exec</c>. None by default in the Native AOT binary, which takes the steps in the child.
    /// </summary>
    public MemoryExecShim? MemoryShim { get; init; } = Native.ExecsInChild ? null : MemoryExecShim.Shared;

    /// <summary>Told why, when the kernel refused to exec the in-memory shim and children fall back to <c>__exec</c>.</summary>
    public Action<string>? MemoryShimRefused { get; init; }
}

/// <summary>
/// Starts every child as <c>Process.Start(shim, ["__exec", program, ...args])</c>: the shim puts itself in a new
/// process group and execs the program, so pid, exit code and pipes stay those of the <see cref="Process"/>. Where it
/// can, the shim is the in-memory one (<see cref="MemoryExecShim"/>), which saves each child a start of Pilot's binary.
/// The child gets Pilot's environment plus <see cref="ProcessStartRequest.ExtraEnvironment"/> (and, run as another user, that
/// user's HOME, USER and LOGNAME, see <see cref="RunAs.LoginEnvironment"/>), Pilot's working
/// directory, and <c>/dev/null</c> as stdin (set by the shim, as Go's os/exec does for v3).
/// With <see cref="ProcessStartRequest.OnOutput"/> set, stdout and stderr are read as lines (see <see cref="LinePump"/>);
/// the callback is never called concurrently for one child (stdout and stderr are serialised), and an exception it
/// throws is swallowed. With it null the child writes straight to Pilot's stdout/stderr.
/// </summary>
public sealed class ProcessLauncher(ProcessLauncherOptions? options = null) : IProcessLauncher
{
    private readonly ProcessLauncherOptions _options = options ?? new ProcessLauncherOptions();

    public string ShimPath => _options.ShimPath ?? Environment.ProcessPath
        ?? throw new InvalidOperationException("The path of the running executable is unknown; set ShimPath.");

    /// <summary>How children start, for Pilot's debug log.</summary>
    public string ShimDescription => _options.MemoryShim?.Path is { } memory
        ? $"in-memory exec shim {memory}, {ShimPath} {ExecShim.Verb} as its fallback"
        : Native.ExecsInChild && _options.ShimPath is null
            ? $"{ShimPath} {ExecShim.Verb}, its steps taken in the child before one exec of the program"
            : $"{ShimPath} {ExecShim.Verb} ({_options.MemoryShim?.Unavailable ?? "in-memory shim off"})";

    public IRunningProcess Start(ProcessStartRequest request) => StartProcess(request);

    /// <summary>Same as <see cref="Start"/>, typed.</summary>
    public RunningProcess StartProcess(ProcessStartRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var command = request.Command;
        string? pathVariable = null;
        var hasPath = request.ExtraEnvironment?.TryGetValue("PATH", out pathVariable) ?? false;
        if (ExecutableResolver.FindError(command.Program, hasPath ? pathVariable : ProcessEnvironment.Get("PATH")) is { } error)
        {
            throw new ProcessStartException(error);
        }

        var runAs = ExecShim.CredentialsFor(request.RunAs);
        var memoryShim = runAs is null ? _options.MemoryShim?.Path : null;
        var children = _options.Children;
        Process process;
        lock (children.Gate)
        {
            process = Launch(request, runAs, memoryShim);
            children.AddLocked(process.Id);
        }

        var running = new RunningProcess(process, request.Name, children);
        Task[] pumps = [];
        if (request.OnOutput is { } onOutput)
        {
            var gate = new Lock();
            var pid = running.Pid;
            void Deliver(bool isStdErr, string text)
            {
                lock (gate)
                {
                    try
                    {
                        onOutput(new OutputLine(request.Name, pid, isStdErr, text));
                    }
#pragma warning disable CA1031 // A faulty log sink must not stop the pump (and with it the child, on a full pipe).
                    catch (Exception)
#pragma warning restore CA1031
                    {
                    }
                }
            }

            pumps =
            [
                // Started here, not queued: each runs until its first read waits for the pipe, then continues on the
                // thread pool.
                PumpThenCloseAsync(process.StandardOutput.BaseStream, line => Deliver(false, line)),
                PumpThenCloseAsync(process.StandardError.BaseStream, line => Deliver(true, line)),
            ];
        }

        // Observed: MonitorAsync catches everything and hands it to whoever awaits the run's exit.
        _ = running.MonitorAsync(ChildExits.Shared, pumps, _options.TimeProvider, _options.DrainTimeout);
        return running;
    }

    /// <summary>
    /// Reads <paramref name="stream"/> to its end, then closes Pilot's end of the pipe. <see cref="Process.Dispose()"/>
    /// leaves a redirected stream open once it has been asked for (it is then the caller's to close), so without this
    /// every finished run and check kept two pipe descriptors until a garbage collection, and every later child's exec
    /// paid for closing them.
    /// </summary>
    private static async Task PumpThenCloseAsync(Stream stream, Action<string> onLine)
    {
        await using (stream.ConfigureAwait(false))
        {
            await LinePump.RunAsync(stream, onLine).ConfigureAwait(false);
        }
    }

    /// <summary>Starts the child (under <see cref="ManagedChildren.Gate"/>).</summary>
    private Process Launch(ProcessStartRequest request, RunAs? runAs, string? memoryShim)
    {
        var overrides = Overrides(request);
        var process = new Process { StartInfo = StartInfo(request, runAs, memoryShim) };
        var made = new List<nint>(0);
        try
        {
            if (ProcessEnvironment.Native is { } native)
            {
                // The child execs with these C strings (main.c swaps them in for the marker): kept unchanged, under the
                // gate, until Process.Start has returned, which is after the exec.
                process.StartInfo.Environment.Clear();
                process.StartInfo.Environment[ChildEnvironment.MarkerName] = ChildEnvironment.MarkerValue;
                lock (ProcessEnvironment.Gate)
                {
                    Processes.Native.SetChildEnvironment(native.Array(overrides, made));
                    try
                    {
                        process.Start();
                    }
                    finally
                    {
                        Processes.Native.SetChildEnvironment(0);
                        ChildEnvironment.Free(made);
                    }
                }
            }
            else
            {
                // A copy: the gate is not held while the child starts.
                var environment = process.StartInfo.Environment;
                environment.Clear();
                ProcessEnvironment.CopyTo(environment);
                foreach (var (name, value) in overrides ?? [])
                {
                    environment[name] = value;
                }
                process.Start();
            }
            // The process keeps its start info for life; the environment copy in it has served its purpose.
            process.StartInfo.Environment.Clear();
            return process;
        }
        catch (Exception ex) when (ex is Win32Exception or InvalidOperationException)
        {
            process.Dispose();
            if (memoryShim is not null && ex is Win32Exception)
            {
                // The kernel would not exec the memfd (a policy against it): this child and every later one use `pilot __exec`.
                var reason = $"exec {memoryShim}: {ex.Message}";
                _options.MemoryShim?.Refuse(reason);
                _options.MemoryShimRefused?.Invoke(reason);
                return Launch(request, runAs, memoryShim: null);
            }
            throw new ProcessStartException($"fork/exec {ShimPath}: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// What the child gets on top of <see cref="ProcessEnvironment"/>: run as another user, that user's HOME, USER and
    /// LOGNAME as a login gives them (unless the job's environment or an operator's -putenv sets them); then the
    /// request's own variables, which win. Null when there are none.
    /// </summary>
    private static Dictionary<string, string>? Overrides(ProcessStartRequest request)
    {
        Dictionary<string, string>? overrides = null;
        if (request.RunAs is { } user)
        {
            foreach (var (key, value) in user.LoginEnvironment())
            {
                if (request.ExtraEnvironment?.ContainsKey(key) != true && !ProcessEnvironment.WasPut(key))
                {
                    (overrides ??= new(StringComparer.Ordinal))[key] = value;
                }
            }
        }
        if (request.ExtraEnvironment is { Count: > 0 } extra)
        {
            overrides ??= new(StringComparer.Ordinal);
            foreach (var (key, value) in extra)
            {
                overrides[key] = value;
            }
        }
        return overrides;
    }

    /// <summary>
    /// <c>SHIM PILOT PROGRAM ARGS...</c> through the in-memory shim, else <c>PILOT __exec PROGRAM ARGS...</c>
    /// (<c>__exec_as UID GID GROUPS</c> for a job with <c>user</c>/<c>group</c>).
    /// </summary>
    private ProcessStartInfo StartInfo(ProcessStartRequest request, RunAs? runAs, string? memoryShim)
    {
        var raw = request.OnOutput is null;
        var info = new ProcessStartInfo(memoryShim ?? ShimPath)
        {
            UseShellExecute = false,
            // Not redirected: the shim replaces the inherited stdin with /dev/null before exec.
            RedirectStandardInput = false,
            RedirectStandardOutput = !raw,
            RedirectStandardError = !raw,
            // The pumps read the readers' streams, never the readers, but each reader sizes a char buffer from its encoding.
            StandardOutputEncoding = raw ? null : UnreadEncoding.Instance,
            StandardErrorEncoding = raw ? null : UnreadEncoding.Instance,
        };
        if (memoryShim is not null)
        {
            info.ArgumentList.Add(ShimPath);
        }
        else if (runAs is not null)
        {
            info.ArgumentList.Add(ExecShim.AsVerb);
            foreach (var argument in runAs.ShimArguments)
            {
                info.ArgumentList.Add(argument);
            }
        }
        else
        {
            info.ArgumentList.Add(ExecShim.Verb);
        }
        var command = request.Command;
        info.ArgumentList.Add(command.Program);
        foreach (var argument in command.Arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return info;
    }
}

/// <summary>
/// The encoding given to the runtime's <see cref="StreamReader"/> of a redirected stream, which Pilot never reads
/// through (the pumps read its base stream and decode UTF-8 themselves): it only makes the reader's char buffer one
/// char instead of 8 KiB, which every job would otherwise hold twice for as long as it runs. (Disposing the reader
/// does not free its buffers: Process keeps it, and the reader keeps them.)
/// </summary>
internal sealed class UnreadEncoding : System.Text.Encoding
{
    public static readonly UnreadEncoding Instance = new();

    public override int GetMaxCharCount(int byteCount) => 1;

    public override int GetMaxByteCount(int charCount) => 1;

    public override int GetByteCount(char[] chars, int index, int count) => throw Unread();

    public override int GetBytes(char[] chars, int charIndex, int charCount, byte[] bytes, int byteIndex) => throw Unread();

    public override int GetCharCount(byte[] bytes, int index, int count) => throw Unread();

    public override int GetChars(byte[] bytes, int byteIndex, int byteCount, char[] chars, int charIndex) => throw Unread();

    private static NotSupportedException Unread() => new("a child's output is read from Pilot's own duplicate of the pipe");
}

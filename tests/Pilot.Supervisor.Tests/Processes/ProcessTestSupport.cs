using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Processes;
using Xunit;

namespace Pilot.Supervisor.Tests.Processes;

/// <summary>Finds the binaries the test project builds first, and small helpers shared by process tests.</summary>
internal static class ProcessTestSupport
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>The <c>pilot</c> apphost used as exec shim: <c>$PILOT_BIN</c>, else the one built from src/Pilot.Api.</summary>
    public static string PilotBin => Existing(Environment.GetEnvironmentVariable("PILOT_BIN") is { Length: > 0 } bin ? bin : Metadata("PilotBin"));

    public static string ReaperProbeBin => Existing(Metadata("ReaperProbeBin"));

    public static ProcessLauncher Launcher(TimeSpan? drainTimeout = null) => new(new ProcessLauncherOptions
    {
        ShimPath = PilotBin,
        DrainTimeout = drainTimeout ?? TimeSpan.FromSeconds(2),
    });

    public static CommandSpec Sh(string script) => new("sh", ["-c", script]);

    public static ProcessStartRequest Request(string script, Action<OutputLine>? onOutput, string name = "job") =>
        new(name, Sh(script), onOutput);

    public static Task<T> Bounded<T>(this Task<T> task) => task.WaitAsync(Timeout, TestContext.Current.CancellationToken);

    public static Task Bounded(this Task task) => task.WaitAsync(Timeout, TestContext.Current.CancellationToken);

    /// <summary>Children of this process in state Z.</summary>
    public static int ZombieChildren() => ChildStates().Count(s => s == 'Z');

    /// <summary>State letters of every process whose parent is this process (from /proc/*/stat).</summary>
    public static List<char> ChildStates()
    {
        var self = Environment.ProcessId;
        var states = new List<char>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (ProcessState(dir) is { } stat && stat.Ppid == self)
            {
                states.Add(stat.State);
            }
        }

        return states;
    }

    /// <summary>True if <paramref name="pid"/> no longer runs (gone, or a zombie).</summary>
    public static bool IsDead(int pid) => ProcessState($"/proc/{pid}") is not { } s || s.State is 'Z' or 'X';

    private static (char State, int Ppid)? ProcessState(string dir)
    {
        try
        {
            var stat = File.ReadAllText(Path.Combine(dir, "stat"));
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (fields[0][0], int.Parse(fields[1], CultureInfo.InvariantCulture));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>Polls <paramref name="condition"/> until true or <paramref name="limit"/> passes; returns its last value.</summary>
    public static async Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan limit)
    {
        var started = TimeProvider.System.GetTimestamp();
        while (!condition())
        {
            if (TimeProvider.System.GetElapsedTime(started) > limit)
            {
                return condition();
            }

            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        return true;
    }

    private static string Metadata(string key) =>
        typeof(ProcessTestSupport).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    private static string Existing(string path) =>
        File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: build the solution (the test project builds it).", path);
}

/// <summary>Collects output lines and lets a test wait for one.</summary>
internal sealed class OutputCollector
{
    private readonly ConcurrentQueue<OutputLine> _lines = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _waiters = new();

    public IReadOnlyList<OutputLine> Lines => [.. _lines];

    public void Add(OutputLine line)
    {
        _lines.Enqueue(line);
        if (_waiters.TryGetValue(line.Text, out var waiter))
        {
            waiter.TrySetResult();
        }
    }

    /// <summary>Completes when a line with exactly <paramref name="text"/> has arrived.</summary>
    public Task WaitFor(string text)
    {
        var waiter = _waiters.GetOrAdd(text, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (_lines.Any(l => l.Text == text))
        {
            waiter.TrySetResult();
        }

        return waiter.Task;
    }
}

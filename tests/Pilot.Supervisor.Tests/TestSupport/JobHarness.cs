using Microsoft.Extensions.Time.Testing;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Jobs;
using Pilot.Supervisor.Logging;
using Shouldly;

namespace Pilot.Supervisor.Tests.TestSupport;

/// <summary>Jobs on a real bus with a fake launcher and a fake clock.</summary>
internal sealed class JobHarness : IAsyncDisposable
{
    public JobHarness()
    {
        Log = new LogWriter(new LoggingConfig { Level = Supervisor.Config.LogLevel.Debug }, Time, LogText);
        Recorder = new EventRecorder(Bus);
        Runtime = new JobRuntime(Bus, Launcher, Time, Log) { DefaultStopGrace = TimeSpan.FromSeconds(5) };
    }

    public EventBus Bus { get; } = new();
    public FakeLauncher Launcher { get; } = new();
    public ArmingClock Time { get; } = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    public StringWriter LogText { get; } = new();
    public LogWriter Log { get; }
    public EventRecorder Recorder { get; }
    public JobRuntime Runtime { get; }
    public List<Job> Jobs { get; } = [];

    public static JobConfig JobNamed(string name, string program = "app") =>
        new() { Name = name, Exec = new CommandSpec(program, []) };

    public Job Add(JobConfig config, IEnumerable<string>? stoppingDependents = null, IServiceRegistration? service = null)
    {
        var job = new Job(config, Runtime, service, stoppingDependents);
        Jobs.Add(job);
        return job;
    }

    /// <summary>Starts every job, then publishes startup (as the supervisor does).</summary>
    public void Start()
    {
        foreach (var job in Jobs)
        {
            job.Start();
        }
        Bus.Publish(Event.GlobalStartup);
    }

    public Task WaitAsync(Event e, int occurrences = 1) => Recorder.WaitForAsync(e, occurrences);

    /// <summary>
    /// Ends the <paramref name="count"/>-th run of <paramref name="name"/> and waits for its exit event. The job forgets
    /// the run before publishing that event, so a clock step afterwards cannot find the run still alive (the exit is
    /// handled on another thread, which settling alone does not wait for).
    /// </summary>
    public async Task EndRunAsync(string name, int count, int exitCode)
    {
        var exitEvent = new Event(exitCode == 0 ? EventCode.ExitSuccess : EventCode.ExitFailed, name);
        var seen = Recorder.Count(exitEvent);
        (await Launcher.WaitForStartAsync(name, count)).Exit(exitCode);
        await Recorder.WaitForAsync(exitEvent, seen + 1);
        await SettleAsync();
    }

    /// <summary>Waits until the bus has delivered everything and every job has handled all it received.</summary>
    public async Task SettleAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var stableRounds = 0;
        while (stableRounds < 3)
        {
            await Bus.WaitIdleAsync(timeout.Token);
            var published = Bus.PublishedCount;
            stableRounds = Jobs.All(j => j.IsQuiescent) && Bus.PublishedCount == published ? stableRounds + 1 : 0;
            timeout.Token.ThrowIfCancellationRequested();
            await Task.Yield();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Bus.Publish(Event.GlobalShutdown);
        foreach (var process in Launcher.Started)
        {
            process.SignalGroup(Supervisor.Processes.SignalNames.SIGKILL);
        }
        await Task.WhenAll(Jobs.Select(j => j.Completion)).WaitAsync(TimeSpan.FromSeconds(10));
        Recorder.Dispose();
        await Bus.DisposeAsync();
    }

    public static Event E(EventCode code, string source) => new(code, source);
}

using Microsoft.Extensions.Time.Testing;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Jobs;
using Pilot.Supervisor.Logging;

namespace Pilot.Supervisor.Tests.TestSupport;

/// <summary>Jobs on a real bus with a fake launcher and a fake clock. Every wait is for an event or a snapshot.</summary>
internal sealed class JobHarness : IAsyncDisposable
{
    private readonly SemaphoreSlim _changed = new(0);
    private Subscription? _subscription;
    private (Event Event, TaskCompletionSource Delivered) _marker = (default, new TaskCompletionSource());
    private int _syncs;

    /// <param name="globalStopTimeout">The global stopTimeout in force (5 s unless given), read when a job stops.</param>
    public JobHarness(Func<TimeSpan>? globalStopTimeout = null)
    {
        Launcher = new FakeLauncher(Time);
        Log = new LogWriter(new LoggingConfig { Level = Supervisor.Config.LogLevel.Debug }, Time, LogText);
        Recorder = new EventRecorder(Bus);
        Runtime = new JobRuntime(Bus, Launcher, Time, Log) { GlobalStopTimeout = globalStopTimeout ?? (() => TimeSpan.FromSeconds(5)) };
    }

    public EventBus Bus { get; } = new();
    public FakeTimeProvider Time { get; } = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    public FakeLauncher Launcher { get; }
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
        job.Changed += _ => _changed.Release();
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
        // Subscribed after the jobs: the bus hands each event to the jobs first, so an event that reaches the harness
        // is already in every job's mailbox.
        _subscription = Bus.Subscribe("harness", e =>
        {
            if (e == _marker.Event)
            {
                _marker.Delivered.TrySetResult();
            }
            return ValueTask.CompletedTask;
        });
        Bus.Publish(Event.GlobalStartup);
    }

    public Task WaitAsync(Event e, int occurrences = 1) => Recorder.WaitForAsync(e, occurrences);

    /// <summary>
    /// Ends the <paramref name="count"/>-th run of <paramref name="name"/> and waits for its exit event. The job
    /// publishes that event while it handles the exit, so whatever the test does next reaches the job after it.
    /// </summary>
    public async Task EndRunAsync(string name, int count, int exitCode)
    {
        var exitEvent = new Event(exitCode == 0 ? EventCode.ExitSuccess : EventCode.ExitFailed, name);
        var seen = Recorder.Count(exitEvent);
        (await Launcher.WaitForStartAsync(name, count)).Exit(exitCode);
        await Recorder.WaitForAsync(exitEvent, seen + 1);
    }

    /// <summary>Waits until <paramref name="job"/> publishes a snapshot that satisfies <paramref name="condition"/>.</summary>
    public async Task<JobSnapshot> WaitForSnapshotAsync(Job job, Func<JobSnapshot, bool> condition, string what)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!condition(job.Snapshot))
        {
            try
            {
                await _changed.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"job {job.Name}: no snapshot with {what} within 10 s; last: {job.Snapshot}");
            }
        }
        return job.Snapshot;
    }

    public Task<JobSnapshot> WaitForStateAsync(Job job, JobState state) =>
        WaitForSnapshotAsync(job, s => s.State == state, $"state {state}");

    /// <summary>
    /// Waits until every job has handled everything published or posted to it so far: a marker goes on the bus and,
    /// once it is in every mailbox, each job is sent signal 0 (which reaches no process) and answers after it. Each
    /// mailbox keeps order, so all earlier input has been handled by then.
    /// </summary>
    public async Task SyncAsync()
    {
        _marker = (new Event(EventCode.Metric, $"harness|sync-{++_syncs}"), new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        Bus.Publish(_marker.Event);
        await _marker.Delivered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        foreach (var job in Jobs)
        {
            await job.SignalAsync(0).WaitAsync(TimeSpan.FromSeconds(10));
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
        _subscription?.Dispose();
        Recorder.Dispose();
        await Bus.DisposeAsync();
    }

    public static Event E(EventCode code, string source) => new(code, source);
}

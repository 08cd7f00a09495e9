using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Jobs;
using Pilot.Supervisor.Logging;
using Pilot.Supervisor.Processes;
using LogLevel = Pilot.Supervisor.Config.LogLevel;

namespace Pilot.Supervisor.Hosting;

/// <summary>
/// The supervisor, the generic host's job graph service: builds jobs from the config (<see cref="ConfiguredJobs"/>), runs them
/// on one bus, handles signals, reload, maintenance and an orderly shutdown, and decides Pilot's exit code. The control
/// plane talks to it only through <see cref="ISupervisorControl"/>.
/// </summary>
/// <remarks>
/// One loop is the only writer of the supervisor's state (the jobs, the config, maintenance, shutdown, the exit code):
/// everything that changes it — starting, a signal, a job's exit policy, a reload, maintenance, the end of a job or of
/// the stop window — is a request to the loop. The loop never waits for jobs: a reload's wait for the jobs it stops,
/// and the components' restart, run beside it and post their end back, so the loop keeps serving meanwhile (a
/// shutdown during a reload is seen at once). Readers (status, the control plane, the jobs' stop hooks) see the
/// immutable <see cref="View"/> the loop publishes.
/// </remarks>
public sealed class PilotSupervisor : ISupervisorControl, IHostedLifecycleService, IAsyncDisposable
{
    /// <summary>Beyond a job's stop budget: the SIGKILL wait, the output drain and the deregistration of a stopping job.</summary>
    private static readonly TimeSpan StopSlack = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan KillAcknowledgeLimit = TimeSpan.FromSeconds(1);

    private readonly PilotSupervisorOptions _options;
    private readonly TimeProvider _time;
    private readonly JobRuntime _runtime;
    private readonly SupervisedComponents _components;
    private readonly Channel<Request> _requests = Channel.CreateUnbounded<Request>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource<int> _exit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _disposing = new();
    private int _disposed;
    private Task _loop = Task.CompletedTask;
    private Task _stopWindow = Task.CompletedTask;
    // What readers see; replaced (never changed) by the loop.
    private View _view;

    // The loop's own state: only the loop reads or writes these.
    // Jobs a reload stopped: their ends are Pilot's doing, not an outcome.
    private readonly HashSet<Job> _retired = [];
    // Reloads asked for while one runs: they run next, one at a time.
    private readonly Queue<TaskCompletionSource<ReloadResult>> _waitingReloads = new();
    // Jobs that halted while a reload ran: whether their stop hooks are released depends on the jobs it starts.
    private readonly List<Job> _haltedDuringReload = [];
    private bool _reloading;
    private bool _started;
    private bool _finishing;
    private int _failedExitCode;
    // The exit code of a shutdown a job's exit policy asked for (0 for a signal's).
    private int _shutdownExitCode;

    /// <summary>The supervisor's state as readers see it.</summary>
    private sealed record View(ImmutableList<Job> Jobs, PilotConfig Config, bool Maintenance, bool ShuttingDown);

    public PilotSupervisor(PilotSupervisorOptions options, LogWriter log)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _view = new View(ImmutableList<Job>.Empty, options.Config, Maintenance: false, ShuttingDown: false);
        _time = options.Time;
        Log = log;
        History = new OutputHistory(options.Config.Logging.KeepLines, _time);
        Bus = new EventBus();
        // Formatted only when it will be written: every health check publishes two events.
        Bus.Observe(e =>
        {
            if (Log.IsEnabled(LogLevel.Debug))
            {
                Log.Write(LogLevel.Debug, $"event: {e}");
            }
        });
        if (options.PilotMetrics is { } metrics)
        {
            Bus.Observe(metrics.Observe);
        }
        var launcher = options.Launcher ?? throw new ArgumentException("a process launcher is required", nameof(options));
        _runtime = new JobRuntime(Bus, launcher, _time, log)
        {
            GlobalStopTimeout = () => Config.StopTimeout,
            Halted = job => Post(new JobHalted(job)),
            StopHooks = StopHooksOf,
            ShutdownRequested = exitCode => Post(new Shutdown(exitCode)),
            History = History,
        };
        _components = new SupervisedComponents(log);
        LogLoaded(options.Config);
        _loop = RunAsync();
    }

    /// <summary>v3 logs the loaded config when it builds its app, before its control server starts; Pilot's warnings follow it.</summary>
    private void LogLoaded(PilotConfig config)
    {
        Log.Write(LogLevel.Debug, "loaded config: " + config.LoadedJson);
        if (config.Consul is null && config.Jobs.Any(j => j.IsService))
        {
            Log.Write(LogLevel.Warn, "no consul configured: jobs with a port are not registered");
        }
        foreach (var warning in config.Warnings)
        {
            Log.Write(LogLevel.Warn, "config: " + warning);
        }
    }

    public EventBus Bus { get; }

    public LogWriter Log { get; }

    /// <summary>Recent output of every job and check, for <c>pilot logs</c>.</summary>
    public OutputHistory History { get; }

    public PilotConfig Config => Volatile.Read(ref _view).Config;

    /// <summary>Completes with Pilot's exit code once everything has stopped.</summary>
    public Task<int> Completion => _exit.Task;

    private View Current => Volatile.Read(ref _view);

    private bool Post(Request request) => _requests.Writer.TryWrite(request);

    /// <summary>Asks the loop and waits for its answer (a request the loop can no longer take gets <paramref name="closed"/>).</summary>
    private Task<T> Ask<T>(Func<TaskCompletionSource<T>, Request> request, T closed)
    {
        var reply = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        return Post(request(reply)) ? reply.Task : Task.FromResult(closed);
    }

    // ---- The host's lifecycle ----

    /// <summary>
    /// The host's start of the job graph: every job starts (subscribed to the bus before any runs), unless a shutdown
    /// came first. The components (<see cref="StartComponentAsync"/>) start after it, and <see cref="StartedAsync"/>
    /// then publishes <c>startup</c>.
    /// </summary>
    public Task StartAsync(CancellationToken cancellationToken) => Ask<bool>(reply => new StartJobs(reply), false);

    /// <summary>Every hosted service has started (v3: jobs, then watches and telemetry, then <c>startup</c>): publishes <c>startup</c>.</summary>
    public Task StartedAsync(CancellationToken cancellationToken) => Ask<bool>(reply => new AnnounceStartup(reply), false);

    /// <summary>The host's stop: a supervisor that has not finished shuts down (in order, as for SIGTERM) first.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (!_exit.Task.IsCompleted)
        {
            Post(new Shutdown(0));
            await _exit.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    Task IHostedLifecycleService.StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>A component beside the jobs starts with the running config; reloads restart it from then on.</summary>
    public Task StartComponentAsync(ISupervisedComponent component, CancellationToken cancellationToken) =>
        _components.StartAsync(component, Config, Bus, cancellationToken);

    public Task StopComponentAsync(ISupervisedComponent component, CancellationToken cancellationToken) =>
        _components.StopAsync(component, cancellationToken);

    // ---- Requests to the loop ----

    private abstract record Request;

    private sealed record StartJobs(TaskCompletionSource<bool> Reply) : Request;

    private sealed record AnnounceStartup(TaskCompletionSource<bool> Reply) : Request;

    private sealed record JobHalted(Job Job) : Request;

    /// <summary>SIGTERM/SIGINT, the host's stop, or a job's exit policy (with its run's exit code).</summary>
    private sealed record Shutdown(int ExitCode) : Request;

    /// <summary>The stop window ended: whatever was left has been killed.</summary>
    private sealed record StopWindowEnded : Request;

    private sealed record SetMaintenance(bool Enabled, TaskCompletionSource<bool> Reply) : Request;

    private sealed record Reload(TaskCompletionSource<ReloadResult> Reply) : Request;

    /// <summary>A reload's retired jobs have stopped (or outlived their budget) and the components are stopped.</summary>
    private sealed record ReloadStopped(ReloadPlan<Job> Plan, PilotConfig Next, TaskCompletionSource<ReloadResult> Reply) : Request;

    /// <summary>A reload's components have started again with the new config.</summary>
    private sealed record ReloadStarted(int Stopped, int Started, TaskCompletionSource<ReloadResult> Reply) : Request;

    /// <summary>The loop: one request at a time; after each, Pilot finishes once started and every job has halted.</summary>
    private async Task RunAsync()
    {
        // Off the constructor's thread: the first request may come before the host starts the supervisor.
        await Task.Yield();
        await foreach (var request in _requests.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                await HandleAsync(request).ConfigureAwait(false);
                if (!_reloading && _haltedDuringReload.Count > 0)
                {
                    await ReleaseStopHooksHaltedDuringReloadAsync().ConfigureAwait(false);
                }
                // Pilot exits when every job has halted (v3); not halfway through a reload, whose new jobs have yet to start.
                if (_started && !_finishing && !_reloading && Current.Jobs.All(j => j.Snapshot.State == JobState.Completed))
                {
                    Finish();
                }
            }
            catch (Exception ex)
            {
                Log.Write(LogLevel.Error, $"supervisor: internal error handling {request}: {ex.Message}");
                FailReply(request, ex);
            }
        }
    }

    private async Task HandleAsync(Request request)
    {
        switch (request)
        {
            case StartJobs start:
                OnStartJobs();
                start.Reply.TrySetResult(true);
                break;
            case AnnounceStartup announce:
                _started = true;
                Bus.Publish(Event.GlobalStartup);
                announce.Reply.TrySetResult(true);
                break;
            case JobHalted halted:
                RecordOutcome(halted.Job);
                if (_reloading)
                {
                    // A job the reload replaces has a successor of its name once the new jobs start.
                    _haltedDuringReload.Add(halted.Job);
                }
                else
                {
                    await ReleaseStopHooksAsync(halted.Job).ConfigureAwait(false);
                }
                break;
            case Shutdown shutdown:
                OnShutdown(shutdown.ExitCode);
                break;
            case StopWindowEnded:
                Finish();
                break;
            case SetMaintenance maintenance:
                OnSetMaintenance(maintenance);
                break;
            case Reload reload:
                OnReload(reload.Reply);
                break;
            case ReloadStopped stopped:
                OnReloadStopped(stopped);
                await ReleaseStopHooksHaltedDuringReloadAsync().ConfigureAwait(false);
                break;
            case ReloadStarted started:
                OnReloadStarted(started);
                break;
            default:
                throw new InvalidOperationException($"no handler for {request}");
        }
    }

    private void FailReply(Request request, Exception ex)
    {
        var reload = request switch
        {
            Reload r => r.Reply,
            ReloadStopped s => s.Reply,
            ReloadStarted s => s.Reply,
            _ => null,
        };
        if (reload is not null)
        {
            reload.TrySetResult(Refused("the reload failed: " + ex.Message));
            EndReload();
        }
        (request switch
        {
            StartJobs s => s.Reply,
            AnnounceStartup a => a.Reply,
            SetMaintenance m => m.Reply,
            _ => null,
        })?.TrySetException(ex);
    }

    private void OnStartJobs()
    {
        ProcessEnvironment.Set("CONTAINERPILOT_PID", Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        var config = Config;
        // A shutdown asked for before the start (a SIGTERM during start-up) means no job starts.
        if (!Current.ShuttingDown)
        {
            var graph = ConfiguredJobs.Of(config);
            CreateAndStartJobs(graph, graph.Jobs, Current.Jobs, config);
        }
    }

    /// <summary>Creates the jobs for <paramref name="configs"/> (of <paramref name="graph"/>), publishes the new job list, then starts them.</summary>
    private void CreateAndStartJobs(ConfiguredJobs graph, IEnumerable<JobConfig> configs, IEnumerable<Job> remaining, PilotConfig config)
    {
        var created = new List<Job>();
        foreach (var node in configs.Select(graph.NodeOf))
        {
            var service = node.Config.IsService && config.Consul is not null ? _options.ServiceRegistrations?.Invoke(node.Config, config) : null;
            var job = new Job(node.Config, _runtime, service, node.StoppingDependents, shutdownDependents: node.ShutdownDependents);
            if (_options.PilotMetrics is { } metrics)
            {
                job.Changed += metrics.Observe;
            }
            created.Add(job);
        }
        // Listed before they start: a job's first events may ask for its pre-stop jobs (StopHooksOf) at once.
        Volatile.Write(ref _view, Current with { Jobs = [.. remaining, .. created], Config = config });
        foreach (var job in created)
        {
            job.Start();
        }
    }

    /// <summary>A job ending badly sets Pilot's exit code; one ending well later does not hide it (the order jobs halt in is a race).</summary>
    private void RecordOutcome(Job job)
    {
        if (_retired.Remove(job))
        {
            return;
        }
        if (job.Snapshot.LastExitCode is { } code && code != 0)
        {
            _failedExitCode = code;
        }
    }

    /// <summary>
    /// The pre-stop jobs of <paramref name="name"/> that will run when it stops now, and that its stop waits for: jobs
    /// with an exec triggered by its <c>stopping</c> that are alive and armed (not stopped by an operator, not halting or halted).
    /// Asked from the jobs' own loops: reads the view.
    /// </summary>
    private ImmutableHashSet<string> StopHooksOf(string name) =>
        [.. Current.Jobs
            .Where(j => j.Config.Exec is not null && j.Config.When.Trigger == new Event(EventCode.Stopping, name)
                && j.Snapshot.State.IsArmed())
            .Select(j => j.Name)];

    /// <summary>
    /// A job halted for good and none of its name is left (a reload that replaces a job starts the successor first): its
    /// pre-stop and post-stop jobs can never be triggered again, so they halt, behind the job's last events.
    /// </summary>
    private async Task ReleaseStopHooksAsync(Job halted)
    {
        var jobs = Current.Jobs;
        if (jobs.Any(j => j.Name == halted.Name && j.Snapshot.State != JobState.Completed))
        {
            return;
        }
        var hooks = jobs.Where(j => j.Config.When.Trigger.Source == halted.Name
            && j.Config.When.Trigger.Code is EventCode.Stopping or EventCode.Stopped
            && j.Snapshot.State != JobState.Completed).ToList();
        if (hooks.Count == 0)
        {
            return;
        }
        // The hook must see the job's `stopping`/`stopped` (which may trigger it) before it learns the job is gone.
        await Bus.FlushAsync().ConfigureAwait(false);
        foreach (var hook in hooks)
        {
            hook.SourceHalted();
        }
    }

    private async Task ReleaseStopHooksHaltedDuringReloadAsync()
    {
        var halted = _haltedDuringReload.ToList();
        _haltedDuringReload.Clear();
        foreach (var job in halted)
        {
            await ReleaseStopHooksAsync(job).ConfigureAwait(false);
        }
    }

    /// <summary>Completes <see cref="Completion"/> with Pilot's exit code, once; the host then stops the components.</summary>
    private void Finish()
    {
        if (_finishing)
        {
            return;
        }
        _finishing = true;
        _exit.TrySetResult(Current.ShuttingDown ? _shutdownExitCode : _failedExitCode);
    }

    // ---- Shutdown ----

    /// <summary>
    /// SIGTERM/SIGINT: publish <c>shutdown</c>, let jobs stop (pre-stop and post-stop jobs still run), and exit as soon as
    /// all have stopped; when the global <c>stopTimeout</c> window ends, SIGKILL whatever remains.
    /// </summary>
    public Task<int> ShutdownAsync()
    {
        Post(new Shutdown(0));
        return _exit.Task;
    }

    /// <summary>The first shutdown wins: its exit code is Pilot's (a job's exit policy gives its run's).</summary>
    private void OnShutdown(int exitCode)
    {
        if (Current.ShuttingDown)
        {
            return;
        }
        Volatile.Write(ref _view, Current with { ShuttingDown = true });
        _shutdownExitCode = exitCode;
        Log.Write(LogLevel.Info, "shutting down");
        Bus.Publish(Event.GlobalShutdown);
        _stopWindow = EnforceStopWindowAsync(Config.StopTimeout);
    }

    /// <summary>Beside the loop: when the window ends before Pilot does, SIGKILL to every job left, then the loop finishes.</summary>
    private async Task EnforceStopWindowAsync(TimeSpan window)
    {
        try
        {
            await _exit.Task.WaitAsync(window, _time).ConfigureAwait(false);
            return;
        }
        catch (TimeoutException)
        {
            var live = Current.Jobs.Where(j => j.Snapshot.State != JobState.Completed).ToList();
            try
            {
                await Task.WhenAll(live.Select(j => j.SendAsync(JobCommand.Kill))).WaitAsync(KillAcknowledgeLimit, _time).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                Log.Write(LogLevel.Error, "shutdown: some jobs did not take SIGKILL in time");
            }
            // Pilot exits only once the killed groups are gone, not just their leaders (a run that already exited can leave members).
            await Task.WhenAll(live.Select(j => j.KillProcessesAsync())).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.Write(LogLevel.Error, $"shutdown: the stop window failed: {ex.Message}");
        }
        if (!Post(new StopWindowEnded()))
        {
            _exit.TrySetResult(_shutdownExitCode);
        }
    }

    /// <summary>SIGHUP and SIGUSR2 become events; other forwardable signals go to every job's process groups.</summary>
    public void HandleSignal(int signal)
    {
        switch (signal)
        {
            case SignalNames.SIGTERM or SignalNames.SIGINT:
                Post(new Shutdown(0));
                break;
            case SignalNames.SIGHUP:
                Bus.Publish(new Event(EventCode.Signal, "SIGHUP"));
                break;
            case SignalNames.SIGUSR2:
                Bus.Publish(new Event(EventCode.Signal, "SIGUSR2"));
                break;
            case SignalNames.SIGUSR1:
                // v3 reopens a log file on SIGUSR1 and otherwise ignores it; it never reaches the jobs.
                if (!IsStandardStream(Config.Logging.Output))
                {
                    Log.Reopen();
                }
                break;
            default:
                foreach (var job in Current.Jobs)
                {
                    _ = job.SignalAsync(signal);
                }
                break;
        }
    }

    private static bool IsStandardStream(string output) =>
        output.Equals("stdout", StringComparison.OrdinalIgnoreCase) || output.Equals("stderr", StringComparison.OrdinalIgnoreCase);

    // ---- Reload ----

    /// <summary>
    /// Asks the loop to reload and waits for the outcome. <paramref name="cancellationToken"/> ends only the wait: the
    /// reload itself goes on to the end, so a client that goes away never leaves it half done.
    /// </summary>
    public async Task<ReloadResult> ReloadAsync(CancellationToken cancellationToken) =>
        await Ask(reply => new Reload(reply), Refused("Pilot is stopping; the running config is kept"))
            .WaitAsync(cancellationToken).ConfigureAwait(false);

    private static ReloadResult Refused(string reason) => new(false, [new ConfigError("", reason)]);

    /// <summary>Re-reads the config; invalid → nothing changes. Valid → only added, removed and changed jobs are touched (<see cref="ReloadPlan"/>).</summary>
    private void OnReload(TaskCompletionSource<ReloadResult> reply)
    {
        if (_reloading)
        {
            _waitingReloads.Enqueue(reply);
            return;
        }
        if (Current.ShuttingDown || _finishing)
        {
            reply.TrySetResult(Refused("Pilot is shutting down; the running config is kept"));
            return;
        }
        var result = ConfigLoader.LoadFile(_options.ConfigPath, ProcessEnvironment.Snapshot());
        if (!result.IsValid)
        {
            // v3's line (it then exited), then Pilot's: the running config stays.
            Log.Write(LogLevel.Error, "error initializing config: " + string.Join("; ", result.Errors));
            Log.Write(LogLevel.Error, "reload refused, keeping the running config: " + string.Join("; ", result.Errors));
            reply.TrySetResult(new ReloadResult(false, result.Errors));
            return;
        }
        var next = result.Config!;
        if (Supervisor.Config.Validation.ControlValidator.UnappliedOnReload(_options.Config.Control, next.Control) is { } unapplied)
        {
            Log.Write(LogLevel.Warn, unapplied);
        }
        _options.ReloadStages?.Invoke(ReloadStage.Stopping);
        var plan = ReloadPlan.Compute(
            Current.Jobs, j => j.Config, j => j.Snapshot.State == JobState.Completed, _retired.Contains, ConfiguredJobs.JobsOf(next));
        foreach (var job in plan.Retire)
        {
            _retired.Add(job);
            job.Retire();
        }
        _reloading = true;
        _ = StopForReloadAsync(plan, next, reply);
    }

    /// <summary>Beside the loop: waits for the retired jobs (bounded by their stop budgets), stops the components, and posts back.</summary>
    private async Task StopForReloadAsync(ReloadPlan<Job> plan, PilotConfig next, TaskCompletionSource<ReloadResult> reply)
    {
        try
        {
            await WaitStoppedAsync(plan.Retire).ConfigureAwait(false);
            await _components.StopAsync(_disposing.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.Write(LogLevel.Error, $"reload: stopping the old config failed: {ex.Message}");
        }
        if (!Post(new ReloadStopped(plan, next, reply)))
        {
            reply.TrySetResult(Refused("Pilot is stopping; the new config was not started"));
        }
    }

    /// <summary>The old config is stopped: the new one becomes the running config and its new jobs start.</summary>
    private void OnReloadStopped(ReloadStopped stopped)
    {
        var next = stopped.Next;
        Log.Reconfigure(next.Logging);
        Log.Write(LogLevel.Debug, "loaded config: " + next.LoadedJson);
        History.Resize(next.Logging.KeepLines);
        _options.UserMetrics?.Reconfigure(next.Telemetry?.Metrics ?? []);
        _options.ReloadStages?.Invoke(ReloadStage.Starting);
        if (Current.ShuttingDown || _finishing)
        {
            stopped.Reply.TrySetResult(Refused("Pilot is shutting down; the new config was not started"));
            EndReload();
            return;
        }
        var remaining = stopped.Plan.Remaining(Current.Jobs, j => j.Snapshot.State == JobState.Completed).ToList();
        CreateAndStartJobs(ConfiguredJobs.Of(next), stopped.Plan.Start, remaining, next);
        _ = StartAfterReloadAsync(stopped.Plan.Retire.Length, stopped.Plan.Start.Length, next, stopped.Reply);
    }

    /// <summary>Beside the loop: the components start again with the new config, then the loop completes the reload.</summary>
    private async Task StartAfterReloadAsync(int stoppedJobs, int startedJobs, PilotConfig next, TaskCompletionSource<ReloadResult> reply)
    {
        try
        {
            await _components.StartAsync(next, Bus, _disposing.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.Write(LogLevel.Error, $"reload: starting {ex.GetType().Name} failed: {ex.Message}");
        }
        if (!Post(new ReloadStarted(stoppedJobs, startedJobs, reply)))
        {
            reply.TrySetResult(new ReloadResult(true, []));
        }
    }

    private void OnReloadStarted(ReloadStarted started)
    {
        Bus.Publish(Event.GlobalStartup);
        Log.Write(LogLevel.Info, $"config reloaded: {started.Stopped} job(s) stopped, {started.Started} started");
        started.Reply.TrySetResult(new ReloadResult(true, []));
        EndReload();
    }

    /// <summary>The reload is over: the next one asked for meanwhile runs.</summary>
    private void EndReload()
    {
        _reloading = false;
        if (_waitingReloads.TryDequeue(out var waiting))
        {
            OnReload(waiting);
        }
    }

    /// <summary>Waits for retired jobs to complete, bounded by their stop budgets; one that does not is kept as it is.</summary>
    private async Task WaitStoppedAsync(ImmutableArray<Job> retiring)
    {
        if (retiring.IsEmpty)
        {
            return;
        }
        var global = Config.StopTimeout;
        var bound = retiring.Max(j => StopTimeouts.For(j.Config.StopTimeout, global)) + StopSlack;
        try
        {
            await Task.WhenAll(retiring.Select(j => j.Completion)).WaitAsync(bound, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            var stuck = retiring.Where(j => !j.Completion.IsCompleted).Select(j => j.Name);
            Log.Write(LogLevel.Error, $"reload: job(s) {string.Join(", ", stuck)} did not stop within {bound.TotalSeconds:0} s and keep running");
        }
    }

    // ---- The control plane's commands and queries ----

    public Task<bool> SetMaintenanceAsync(bool enabled, CancellationToken cancellationToken) =>
        Ask<bool>(reply => new SetMaintenance(enabled, reply), false).WaitAsync(cancellationToken);

    private void OnSetMaintenance(SetMaintenance request)
    {
        var changed = Current.Maintenance != request.Enabled;
        Volatile.Write(ref _view, Current with { Maintenance = request.Enabled });
        // v3 publishes on every request, changed or not: jobs with `each: enterMaintenance` run each time.
        Bus.Publish(new Event(request.Enabled ? EventCode.EnterMaintenance : EventCode.ExitMaintenance, Event.GlobalSource));
        request.Reply.TrySetResult(changed);
    }

    public void PutEnvironment(IReadOnlyDictionary<string, string> variables)
    {
        foreach (var (name, value) in variables)
        {
            ProcessEnvironment.Put(name, value);
        }
    }

    public MetricPutResult PutMetrics(IReadOnlyDictionary<string, double> values)
    {
        if (_options.UserMetrics is not { } metrics)
        {
            return new MetricPutResult([.. values.Keys.Select(k => $"unknown metric '{k}': no telemetry.metrics are configured")]);
        }
        var result = metrics.Put(values);
        if (result.Ok)
        {
            foreach (var (key, value) in values)
            {
                Bus.Publish(new Event(EventCode.Metric, $"{key}|{value.ToString(CultureInfo.InvariantCulture)}"));
            }
        }
        return result;
    }

    public async Task<JobCommandResult> ControlJobAsync(string name, JobCommand command, CancellationToken cancellationToken)
    {
        var jobs = Current.Jobs;
        // After a reload a replaced job may still be listed beside its successor: the live one answers.
        var job = jobs.LastOrDefault(j => j.Name == name && !j.Completion.IsCompleted) ?? jobs.LastOrDefault(j => j.Name == name);
        if (job is null)
        {
            return new JobCommandResult(JobCommandOutcome.NotFound, null);
        }
        var outcome = await job.RunCommandAsync(command, cancellationToken).ConfigureAwait(false);
        return new JobCommandResult(outcome, job.Snapshot);
    }

    public IReadOnlyList<RecordedLine> GetJobOutput(string name, int lines) => History.Tail(name, lines);

    public IAsyncEnumerable<RecordedLine> FollowJobOutput(string name, int lines, CancellationToken cancellationToken) =>
        History.FollowAsync(name, lines, cancellationToken);

    public PilotConfig GetConfig() => Config;

    public SupervisorSnapshot GetStatus()
    {
        var view = Current;
        return new SupervisorSnapshot(
            _options.Version,
            view.Maintenance,
            [.. view.Jobs.Select(j => j.Snapshot)],
            [.. _options.Components.SelectMany(c => c.Watches)])
        {
            ShutdownOrder = view.Config.ShutdownOrder,
            ShuttingDown = view.ShuttingDown,
        };
    }

    public async IAsyncEnumerable<Event> WatchEvents(string? source, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var stream = Channel.CreateBounded<Event>(new BoundedChannelOptions(EventBus.SubscriberCapacity)
        {
            // A slow reader of the stream loses the oldest events; it never slows the bus.
            FullMode = BoundedChannelFullMode.DropOldest,
        });
        using var observer = Bus.Observe(e =>
        {
            if (source is null || e.Source == source)
            {
                stream.Writer.TryWrite(e);
            }
        });
        while (await stream.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (stream.Reader.TryRead(out var e))
            {
                yield return e;
            }
        }
    }

    /// <summary>
    /// Idempotent. <see cref="SupervisorRuntime"/> disposes it once the host has stopped (the host disposes no instance it
    /// was given). The loop ends first (no request is taken after), then the stop window's task.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await _disposing.CancelAsync().ConfigureAwait(false);
        _requests.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        await Volatile.Read(ref _stopWindow).ConfigureAwait(false);
        await Bus.DisposeAsync().ConfigureAwait(false);
        _disposing.Dispose();
    }
}

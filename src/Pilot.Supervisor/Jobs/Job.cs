using Pilot.Supervisor.Config;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Processes;
using Pilot.Supervisor.Config.Decoding;
using LogLevel = Pilot.Supervisor.Config.LogLevel;

namespace Pilot.Supervisor.Jobs;

/// <summary>
/// One job: a state machine over the bus, following v3's <c>jobs.processEvent</c> case by case (reference Part A §3).
/// All state is touched only by the job's own loop; process watchers talk to it through the bus or its mailbox.
/// Pilot departures from v3: a trigger that arrives while the previous run is alive is skipped (v3 blocked its loop),
/// stopping waits for every stopping-dependent bounded by <c>stopTimeout</c>, and stopping terminates the process
/// group (SIGTERM, then SIGKILL after the grace) before publishing <c>stopped</c>.
/// </summary>
public sealed partial class Job
{
    private const int Unlimited = -1;

    private readonly JobRuntime _runtime;
    private readonly IServiceRegistration? _service;
    private readonly HashSet<string> _stoppingDependents;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private readonly Event _heartbeatTimer;
    private readonly Event _runEveryTimer;
    private readonly Event _waitTimeoutTimer;
    private readonly Event _stoppingTimeoutTimer;
    private readonly string _checkName;

    private Subscription? _mailbox;
    private readonly List<ITimer> _timers = [];
    private readonly List<Task> _watchers = [];
    private Event _trigger;
    private Event _startTimeoutEvent;
    private int _startsRemain;
    private int _restartsRemain;
    private HealthStatus _status = HealthStatus.Unknown;
    private bool _idle = true;
    private bool _startPending;
    private IRunningProcess? _run;
    private IRunningProcess? _check;
    // Every run and check whose process group may still exist (a leader's exit can leave members behind).
    private readonly List<IRunningProcess> _groups = [];
    private JobSnapshot _snapshot;
    private long _handled;

    /// <summary>True when the loop has handled every event its mailbox accepted (tests use it to settle without sleeping).</summary>
    internal bool IsQuiescent => Completion.IsCompleted || Volatile.Read(ref _mailboxClosed)
        || (_mailbox is { } m && Interlocked.Read(ref _handled) == m.AcceptedCount);

    private bool _mailboxClosed;

    public Job(JobConfig config, JobRuntime runtime, IServiceRegistration? service = null, IEnumerable<string>? stoppingDependents = null)
    {
        Config = config;
        _runtime = runtime;
        _service = service;
        _stoppingDependents = [.. stoppingDependents ?? []];
        _trigger = config.When.Trigger;
        _startsRemain = config.When.StartsLimit;
        _restartsRemain = config.Restarts;
        _heartbeatTimer = new Event(EventCode.TimerExpired, config.Name + ".heartbeat");
        _runEveryTimer = new Event(EventCode.TimerExpired, config.Name + ".run-every");
        _waitTimeoutTimer = new Event(EventCode.TimerExpired, config.Name + ".wait-timeout");
        _stoppingTimeoutTimer = new Event(EventCode.TimerExpired, config.Name + ".stopping-timeout");
        _checkName = "check." + config.Name;
        _startTimeoutEvent = config.When.Timeout is { } t && t > TimeSpan.Zero ? _waitTimeoutTimer : default;
        _snapshot = new JobSnapshot { Name = config.Name, State = JobState.Idle, IsService = config.IsService };
        if (IsAlwaysHealthy)
        {
            _status = HealthStatus.Healthy;
            _snapshot = _snapshot with { Health = HealthStatus.Healthy };
        }
    }

    public JobConfig Config { get; }

    public string Name => Config.Name;

    /// <summary>Completes once the job has halted and published <c>stopped</c>.</summary>
    public Task Completion => _completion.Task;

    public JobSnapshot Snapshot
    {
        get
        {
            lock (_gate)
            {
                return _snapshot;
            }
        }
    }

    /// <summary>Raised after every snapshot change (telemetry and the status API read it).</summary>
    public event Action<JobSnapshot>? Changed;

    /// <summary>The exit of the last run, if any (for Pilot's own exit code).</summary>
    public ProcessExit? LastExit { get; private set; }

    /// <summary>The telemetry service job: no exec, always healthy (v3's <c>alwaysHealthy</c>).</summary>
    private bool IsAlwaysHealthy => Config.Name == JobConfig.TelemetryJobName && Config.Exec is null;

    /// <summary>Subscribes to the bus and starts the loop. Call before publishing <c>startup</c>.</summary>
    public void Start()
    {
        _mailbox = _runtime.Bus.Subscribe(Name);
        if (Config.Health is { } health && health.Interval > TimeSpan.Zero)
        {
            AddTimer(_heartbeatTimer, health.Interval, periodic: true);
        }
        if (_startTimeoutEvent != default)
        {
            AddTimer(_waitTimeoutTimer, Config.When.Timeout!.Value, periodic: false);
        }
        if (Config.When.Interval is { } every)
        {
            AddTimer(_runEveryTimer, every, periodic: true);
        }
        Update(s => s with { State = JobState.Waiting });
        _ = Task.Run(RunLoopAsync);
    }

    /// <summary>Asks the job to halt as on shutdown, but for this job only (reload of a changed or removed job).</summary>
    public void RequestStop() => _mailbox?.Post(new Event(EventCode.Quit, Name));

    /// <summary>Sends a signal to the process groups of the job's running exec and check.</summary>
    public void Signal(int signal)
    {
        IRunningProcess? run, check;
        lock (_gate)
        {
            (run, check) = (_run, _check);
        }
        run?.SignalGroup(signal);
        check?.SignalGroup(signal);
    }

    private async Task RunLoopAsync()
    {
        try
        {
            var reader = _mailbox!.Reader;
            while (true)
            {
                if (Config.InitialStatus is not null)
                {
                    _service?.EnsureInitialRegistration();
                }
                var e = await reader.ReadAsync().ConfigureAwait(false);
                var outcome = e == _operatorCommand ? await RunOperatorCommandAsync().ConfigureAwait(false) : Handle(e);
                Interlocked.Increment(ref _handled);
                if (outcome == Outcome.Halt)
                {
                    break;
                }
            }
            await CleanupAsync(reader).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _runtime.Log.Write(LogLevel.Error, $"job {Name}: internal error: {ex.Message}");
            await KillProcessesAsync().ConfigureAwait(false);
        }
        finally
        {
            Update(s => s with { State = JobState.Completed, Pid = null });
            CloseOperatorCommands();
            _completion.TrySetResult();
        }
    }

    private enum Outcome { Continue, Halt }

    /// <summary>v3's processEvent: the first matching case wins, anything else is ignored.</summary>
    private Outcome Handle(Event e)
    {
        Update(s => s with { LastEvent = _runtime.Time.GetUtcNow() });
        if (HandleWhileStoppedByOperator(e) is { } held)
        {
            return held;
        }
        if (e == _heartbeatTimer)
        {
            return OnHeartbeat();
        }
        if (_startTimeoutEvent != default && e == _startTimeoutEvent)
        {
            _runtime.Bus.Publish(new Event(EventCode.TimerExpired, Name));
            _mailbox!.Post(new Event(EventCode.Quit, Name));
            return Outcome.Continue;
        }
        if (e == _runEveryTimer)
        {
            return OnRunEvery();
        }
        if (e.Source == _checkName && e.Code is EventCode.ExitFailed or EventCode.ExitSuccess)
        {
            return OnCheckResult(e.Code == EventCode.ExitSuccess);
        }
        if (e == new Event(EventCode.Quit, Name) || e == Event.GlobalShutdown)
        {
            return OnQuit();
        }
        if (e == new Event(EventCode.EnterMaintenance, Event.GlobalSource))
        {
            SetStatus(HealthStatus.Maintenance);
            _service?.EnterMaintenance();
            return e == _trigger ? OnStartEvent() : Outcome.Continue;
        }
        if (e == new Event(EventCode.ExitMaintenance, Event.GlobalSource))
        {
            SetStatus(HealthStatus.Unknown);
            _service?.ExitMaintenance();
            return e == _trigger ? OnStartEvent() : Outcome.Continue;
        }
        if (e.Source == Name && e.Code is EventCode.ExitSuccess or EventCode.ExitFailed)
        {
            return OnExecExit();
        }
        if (e.Code == EventCode.Signal && e.Source is "SIGHUP" or "SIGUSR2")
        {
            if (_trigger == e)
            {
                StartExec();
            }
            return Outcome.Continue;
        }
        if (_trigger != default && e == _trigger)
        {
            return OnStartEvent();
        }
        return Outcome.Continue;
    }

    private Outcome OnHeartbeat()
    {
        if (_status == HealthStatus.Maintenance || (_idle && !IsAlwaysHealthy))
        {
            return Outcome.Continue;
        }
        if (Config.Health?.Exec is { } checkExec)
        {
            StartCheck(checkExec);
        }
        else
        {
            _service?.Heartbeat();
        }
        return Outcome.Continue;
    }

    private Outcome OnRunEvery()
    {
        if (!RestartPolicy.RestartPermitted(Config.Restarts, _restartsRemain))
        {
            _runtime.Log.Write(LogLevel.Debug, $"interval expired but restart not permitted: {Name}");
            _trigger = default;
            return Outcome.Halt;
        }
        if (IsRunAlive)
        {
            _runtime.Log.Write(LogLevel.Warn, $"job {Name}: previous run is still alive at the next interval, tick skipped");
            return Outcome.Continue;
        }
        _restartsRemain--;
        StartExec();
        return Outcome.Continue;
    }

    private bool IsRunAlive
    {
        get
        {
            lock (_gate)
            {
                return _run is not null;
            }
        }
    }

    private Outcome OnCheckResult(bool passed)
    {
        if (_status == HealthStatus.Maintenance)
        {
            return Outcome.Continue;
        }
        if (passed)
        {
            SetStatus(HealthStatus.Healthy);
            _runtime.Bus.Publish(new Event(EventCode.StatusHealthy, Name));
            _service?.Heartbeat();
        }
        else
        {
            SetStatus(HealthStatus.Unhealthy);
            _runtime.Bus.Publish(new Event(EventCode.StatusUnhealthy, Name));
        }
        return Outcome.Continue;
    }

    private Outcome OnQuit()
    {
        _restartsRemain = 0;
        _startPending = false;
        if (_trigger.Code is EventCode.Stopping or EventCode.Stopped && Config.Exec is not null)
        {
            // Pre-stop and post-stop jobs outlive the shutdown until their trigger has run.
            if (_startsRemain == Unlimited)
            {
                _startsRemain = 1;
            }
            return Outcome.Continue;
        }
        _startsRemain = 0;
        _trigger = default;
        return Outcome.Halt;
    }

    private Outcome OnExecExit()
    {
        if (IsExitToIgnoreAfterOperatorCommand())
        {
            return Outcome.Continue;
        }
        if (Config.When.IsPeriodic)
        {
            return Outcome.Continue;
        }
        if (_startPending)
        {
            _startPending = false;
            StartExec();
            return Outcome.Continue;
        }
        if (RestartPolicy.RestartPermitted(Config.Restarts, _restartsRemain))
        {
            _restartsRemain--;
            Update(s => s with { Restarts = s.Restarts + 1 });
            StartExec();
            return Outcome.Continue;
        }
        if (_startsRemain != 0)
        {
            return Outcome.Continue;
        }
        _runtime.Log.Write(LogLevel.Debug, $"job exited but restart not permitted: {Name}");
        _trigger = default;
        SetStatus(HealthStatus.Unknown);
        return Outcome.Halt;
    }

    private Outcome OnStartEvent()
    {
        if (_startsRemain == 0)
        {
            _trigger = default;
            return Outcome.Halt;
        }
        if (_startsRemain != Unlimited)
        {
            _startsRemain--;
            if (_startsRemain == 0 || _restartsRemain == 0)
            {
                // Do not take the trigger again while this run is still going.
                _trigger = default;
            }
        }
        StartExec();
        return Outcome.Continue;
    }

    private void StartExec()
    {
        _startTimeoutEvent = default;
        _idle = false;
        SetStatus(IsAlwaysHealthy ? HealthStatus.Healthy : HealthStatus.Unknown);
        if (Config.Exec is not { } exec)
        {
            return;
        }
        lock (_gate)
        {
            if (_run is not null)
            {
                // v3 blocked its event loop here until the run ended. Pilot remembers one start instead (later
                // triggers coalesce into it) and runs it when the current run exits, so the latest change is never lost.
                if (!_startPending)
                {
                    _runtime.Log.Write(LogLevel.Info, $"job {Name}: previous run (pid {_run.Pid}) is still alive, start queued until it exits");
                }
                _startPending = true;
                return;
            }
        }
        _pendingExits++;
        var run = Launch(Name, exec, Config.RawLogging, Config.Timeout);
        if (run is null)
        {
            return;
        }
        lock (_gate)
        {
            _run = run;
            TrackGroup(run);
        }
        Update(s => s with { State = JobState.Running, Pid = run.Pid, LastStarted = _runtime.Time.GetUtcNow() });
        _watchers.RemoveAll(t => t.IsCompleted);
        _runWatcher = WatchRunAsync(run);
        _watchers.Add(_runWatcher);
    }

    private async Task WatchRunAsync(IRunningProcess run)
    {
        var exit = await run.Exited.ConfigureAwait(false);
        // Leftovers of the run's process group go with it, as in v3.
        run.SignalGroup(SignalNames.SIGTERM);
        ProcessEnvironment.Set(EnvNames.PidVariable(Name), null);
        lock (_gate)
        {
            if (_run == run)
            {
                _run = null;
            }
        }
        LastExit = exit;
        Update(s => s with
        {
            State = s.State == JobState.Running ? JobState.Waiting : s.State,
            Pid = null,
            LastExitCode = exit.Signal is { } sig ? 128 + sig : exit.ExitCode,
            LastExited = _runtime.Time.GetUtcNow(),
        });
        PublishExit(Name, exit);
    }

    private void StartCheck(CommandSpec exec)
    {
        lock (_gate)
        {
            if (_check is not null)
            {
                _runtime.Log.Write(LogLevel.Debug, $"{_checkName}: previous check still running, tick skipped");
                return;
            }
        }
        var check = Launch(_checkName, exec, Config.Health!.RawLogging, Config.Health.Timeout);
        if (check is null)
        {
            return;
        }
        lock (_gate)
        {
            _check = check;
            TrackGroup(check);
        }
        _watchers.RemoveAll(t => t.IsCompleted);
        _watchers.Add(WatchCheckAsync(check));
    }

    private async Task WatchCheckAsync(IRunningProcess check)
    {
        var exit = await check.Exited.ConfigureAwait(false);
        check.SignalGroup(SignalNames.SIGTERM);
        ProcessEnvironment.Set(EnvNames.PidVariable(_checkName), null);
        lock (_gate)
        {
            if (_check == check)
            {
                _check = null;
            }
        }
        PublishExit(_checkName, exit);
    }

    /// <summary>Starts a process with an optional run timeout; a start failure publishes exitFailed + error as v3.</summary>
    private IRunningProcess? Launch(string name, CommandSpec command, bool raw, TimeSpan? timeout)
    {
        IRunningProcess process;
        try
        {
            process = _runtime.Launcher.Start(new ProcessStartRequest(name, command, raw ? null : _runtime.WriteOutput));
        }
        catch (ProcessStartException ex)
        {
            _runtime.Log.Write(LogLevel.Error, $"unable to start {name}: {ex.Message}");
            _runtime.Bus.Publish(new Event(EventCode.ExitFailed, name));
            _runtime.Bus.Publish(new Event(EventCode.Error, ex.Message));
            return null;
        }
        if (timeout is { } limit && limit > TimeSpan.Zero)
        {
            var timer = _runtime.Time.CreateTimer(_ =>
            {
                _runtime.Log.Write(LogLevel.Warn, $"{name} timeout after {GoDuration.Format(limit)}: '{command}'");
                process.SignalGroup(SignalNames.SIGKILL);
            }, null, limit, Timeout.InfiniteTimeSpan);
            _ = process.Exited.ContinueWith(_ => timer.Dispose(), TaskScheduler.Default);
        }
        // v3: while the run lives, every process started meanwhile sees its pid (not the run itself, already started).
        ProcessEnvironment.Set(EnvNames.PidVariable(name), process.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return process;
    }

    private void PublishExit(string name, ProcessExit exit)
    {
        if (exit.Success)
        {
            _runtime.Log.Write(LogLevel.Debug, $"{name} exited without error");
            _runtime.Bus.Publish(new Event(EventCode.ExitSuccess, name));
        }
        else
        {
            _runtime.Log.Write(LogLevel.Error, $"{name} exited with error: {exit}");
            _runtime.Bus.Publish(new Event(EventCode.ExitFailed, name));
            _runtime.Bus.Publish(new Event(EventCode.Error, $"{name}: {exit}"));
        }
    }

    /// <summary>v3's cleanup: stopping, wait for dependents, terminate, deregister, leave the bus, stopped.</summary>
    private async Task CleanupAsync(System.Threading.Channels.ChannelReader<Event> reader)
    {
        Update(s => s with { State = JobState.Stopping });
        _runtime.Bus.Publish(new Event(EventCode.Stopping, Name));
        if (_stoppingDependents.Count > 0)
        {
            if (Config.StopTimeout > TimeSpan.Zero)
            {
                AddTimer(_stoppingTimeoutTimer, Config.StopTimeout, periodic: false);
            }
            var waiting = new HashSet<string>(_stoppingDependents);
            while (waiting.Count > 0)
            {
                var e = await reader.ReadAsync().ConfigureAwait(false);
                Interlocked.Increment(ref _handled);
                if (e == _stoppingTimeoutTimer)
                {
                    _runtime.Log.Write(LogLevel.Warn, $"job {Name}: stopTimeout reached while waiting for {string.Join(", ", waiting)}");
                    break;
                }
                if (e.Code == EventCode.Stopped)
                {
                    waiting.Remove(e.Source);
                }
            }
        }
        Volatile.Write(ref _mailboxClosed, true);
        foreach (var timer in _timers)
        {
            await timer.DisposeAsync().ConfigureAwait(false);
        }
        await TerminateProcessesAsync().ConfigureAwait(false);
        // Exit events of the last runs are published before `stopped`, never after.
        await Task.WhenAll(_watchers).ConfigureAwait(false);
        await DeregisterServiceAsync().ConfigureAwait(false);
        _mailbox!.Dispose();
        Update(s => s with { State = JobState.Completed, Pid = null });
        _runtime.Bus.Publish(new Event(EventCode.Stopped, Name));
    }

    private async Task DeregisterServiceAsync()
    {
        if (_service is null)
        {
            return;
        }
        using var deregisterTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(5), _runtime.Time);
        try
        {
            await _service.DeregisterAsync(deregisterTimeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _runtime.Log.Write(LogLevel.Info, $"deregistering failed: {ex.Message}");
        }
    }

    private void TrackGroup(IRunningProcess process)
    {
        _groups.RemoveAll(g => !g.IsGroupAlive);
        _groups.Add(process);
    }

    private IRunningProcess[] Groups()
    {
        lock (_gate)
        {
            return [.. _groups];
        }
    }

    /// <summary>SIGTERM to every group of the job still there, SIGKILL after the grace to what is left, leader or not.</summary>
    private async Task TerminateProcessesAsync()
    {
        var grace = Config.StopTimeout > TimeSpan.Zero ? Config.StopTimeout : _runtime.DefaultStopGrace;
        await Task.WhenAll(Groups().Select(group => ProcessGroupKiller.TerminateAsync(group, grace, _runtime.Time,
            beforeKill: () => _runtime.Log.Write(LogLevel.Info, $"killing processes for job \"{Name}\"")))).ConfigureAwait(false);
    }

    /// <summary>SIGKILL to every group of the job still there (end of the global stop window); completes when they are gone.</summary>
    public Task KillProcessesAsync() =>
        Task.WhenAll(Groups().Select(group => ProcessGroupKiller.KillAsync(group, _runtime.Time)));

    private void AddTimer(Event timerEvent, TimeSpan interval, bool periodic)
    {
        var mailbox = _mailbox!;
        _timers.Add(_runtime.Time.CreateTimer(_ => mailbox.Post(timerEvent), null, interval,
            periodic ? interval : Timeout.InfiniteTimeSpan));
    }

    private void SetStatus(HealthStatus status)
    {
        if (IsAlwaysHealthy)
        {
            return;
        }
        _status = status;
        Update(s => s with { Health = status });
    }

    private void Update(Func<JobSnapshot, JobSnapshot> change)
    {
        JobSnapshot updated;
        lock (_gate)
        {
            updated = _snapshot = change(_snapshot) with { Version = _snapshot.Version + 1 };
        }
        Changed?.Invoke(updated);
    }
}

using System.Collections.Immutable;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Hosting;
using Pilot.Supervisor.Logging;
using Pilot.Supervisor.Processes;
using Pilot.Supervisor.Tests.Processes;
using Pilot.Supervisor.Tests.TestSupport;
using Shouldly;

namespace Pilot.Supervisor.Tests.Hosting;

/// <summary>The supervisor with real `sh` children through the real launcher and shim.</summary>
public sealed partial class SupervisorProcessTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pilot-sup-").FullName;
    private readonly List<PilotSupervisor> _supervisors = [];
    private readonly List<IHost> _hosts = [];

    private static JobConfig ShJob(string name, string script) =>
        new() { Name = name, Exec = ProcessTestSupport.Sh(script) };

    private (PilotSupervisor Supervisor, EventRecorder Events, string LogPath) Create(PilotConfig config, string? configPath = null,
        ImmutableArray<ISupervisedComponent> components = default)
    {
        var logPath = Path.Combine(_dir, $"pilot-{_supervisors.Count}.log");
        var log = new LogWriter(config.Logging with { Output = logPath, Level = Supervisor.Config.LogLevel.Debug });
        var supervisor = new PilotSupervisor(new PilotSupervisorOptions
        {
            ConfigPath = configPath ?? Path.Combine(_dir, "unused.json5"),
            Components = components.IsDefault ? [] : components,
            Config = config,
            Launcher = ProcessTestSupport.Launcher(),
        }, log);
        _supervisors.Add(supervisor);
        return (supervisor, new EventRecorder(supervisor.Bus), logPath);
    }

    /// <summary>The supervisor and its components run as in <c>pilot</c>: hosted services of Pilot's generic host.</summary>
    private Task StartAsync(PilotSupervisor supervisor, params ISupervisedComponent[] components)
    {
        var builder = PilotGenericHost.CreateBuilder(NullLoggerFactory.Instance);
        builder.Services.AddSingleton<IHostedService>(supervisor);
        foreach (var component in components)
        {
            builder.Services.AddSingleton<IHostedService>(new ComponentService(component, supervisor));
        }
        var host = builder.Build();
        _hosts.Add(host);
        return host.StartAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Supervisor_RunsDependencyChain_ExitSuccessThenHealthy()
    {
        var marker = Path.Combine(_dir, "chain");
        var config = new PilotConfig
        {
            Jobs =
            [
                ShJob("a", $"echo a >> {marker}"),
                ShJob("b", $"echo b >> {marker}; sleep 30") with
                {
                    When = new WhenConfig { Trigger = new Event(EventCode.ExitSuccess, "a") },
                    Health = new HealthConfig { Exec = ProcessTestSupport.Sh("true"), Interval = TimeSpan.FromSeconds(1), TtlSeconds = 5, Timeout = TimeSpan.FromSeconds(5) },
                },
                ShJob("c", $"echo c >> {marker}") with { When = new WhenConfig { Trigger = new Event(EventCode.StatusHealthy, "b") } },
            ],
        };
        var (supervisor, events, _) = Create(config);

        await StartAsync(supervisor);
        await events.WaitForAsync(new Event(EventCode.ExitSuccess, "c"), seconds: 60);

        (await File.ReadAllLinesAsync(marker, TestContext.Current.CancellationToken)).ShouldBe(["a", "b", "c"]);
        var exitCode = await supervisor.ShutdownAsync().Bounded();
        exitCode.ShouldBe(0);
    }

    [Fact]
    public async Task Shutdown_RunsPreStopAndPostStopJobsInOrder_AndExitsZero()
    {
        var marker = Path.Combine(_dir, "order");
        var config = new PilotConfig
        {
            StopTimeout = TimeSpan.FromSeconds(20),
            Jobs =
            [
                ShJob("app", $"trap 'echo app-term >> {marker}; exit 0' TERM; echo app-up >> {marker}; while true; do sleep 0.1; done"),
                ShJob("pre-stop", $"echo pre-stop >> {marker}") with { When = new WhenConfig { Trigger = new Event(EventCode.Stopping, "app") } },
                ShJob("post-stop", $"echo post-stop >> {marker}") with { When = new WhenConfig { Trigger = new Event(EventCode.Stopped, "app") } },
            ],
        };
        var (supervisor, events, _) = Create(config);
        await StartAsync(supervisor);
        await WaitForFileLineAsync(marker, "app-up");

        var exitCode = await supervisor.ShutdownAsync().Bounded();

        exitCode.ShouldBe(0);
        (await File.ReadAllLinesAsync(marker, TestContext.Current.CancellationToken)).ShouldBe(["app-up", "pre-stop", "app-term", "post-stop"]);
        var order = events.Events.Where(e => e.Code is EventCode.Stopping or EventCode.Stopped && e.Source == "app").ToList();
        order.ShouldBe([new Event(EventCode.Stopping, "app"), new Event(EventCode.Stopped, "app")]);
    }

    [Fact]
    public async Task Shutdown_KillsJobIgnoringSigterm_AfterItsStopTimeout()
    {
        var config = new PilotConfig
        {
            StopTimeout = TimeSpan.FromSeconds(30),
            Jobs = [ShJob("stubborn", "trap '' TERM; echo ready; while true; do sleep 0.1; done") with { StopTimeout = TimeSpan.FromSeconds(1) }],
        };
        var (supervisor, events, logPath) = Create(config);
        await StartAsync(supervisor);
        await WaitForFileLineAsync(logPath, "ready", contains: true);
        var started = DateTime.UtcNow;

        await supervisor.ShutdownAsync().Bounded();

        (DateTime.UtcNow - started).ShouldBeLessThan(TimeSpan.FromSeconds(20));
        supervisor.GetStatus().Jobs.Single().State.ShouldBe(JobState.Completed);
        (await File.ReadAllTextAsync(logPath, TestContext.Current.CancellationToken)).ShouldContain("killing processes for job \"stubborn\"");
    }

    [Theory]
    [InlineData("exit 0", "sleep 0.3; exit 7")]
    [InlineData("sleep 0.3; exit 0", "exit 7")]
    public async Task Supervisor_Exits_WhenEveryJobHalted_WithTheFailedJobsExitCode_WhicheverEndsLast(string okScript, string badScript)
    {
        var config = new PilotConfig { Jobs = [ShJob("ok", okScript), ShJob("bad", badScript)] };
        var (supervisor, _, _) = Create(config);

        await StartAsync(supervisor);

        (await supervisor.Completion.Bounded()).ShouldBe(7);
    }

    [Fact]
    public async Task Supervisor_Exits_WhenShutdownAndNoJobs()
    {
        var (supervisor, _, _) = Create(new PilotConfig());
        await StartAsync(supervisor);

        (await supervisor.ShutdownAsync().Bounded()).ShouldBe(0);
    }

    [Fact]
    public async Task Job_OutputOf100MegabytesIsLoggedLineByLine_NothingLostOrSplit()
    {
        const int lines = 1_000_000;
        var config = new PilotConfig
        {
            // 1,000,000 lines of 100 bytes (99 characters and a newline) = 100 MB.
            Jobs = [ShJob("chatty", $"yes {new string('x', 98)} | head -n {lines}")],
        };
        var (supervisor, _, logPath) = Create(config);
        await StartAsync(supervisor);
        await supervisor.Completion.Bounded();

        var count = 0;
        foreach (var line in File.ReadLines(logPath))
        {
            // Job output lines read `<time> chatty <pid> <text>`; Pilot's own lines have no pid.
            if (JobLine().IsMatch(line))
            {
                line.ShouldEndWith(" " + new string('x', 98));
                count++;
            }
        }
        count.ShouldBe(lines);
    }

    [Fact]
    public async Task Environment_PutThroughControl_ReachesLaterChildren()
    {
        var marker = Path.Combine(_dir, "env");
        var config = new PilotConfig
        {
            Jobs = [ShJob("printer", $"echo \"[$PILOT_TEST_VAR][${{PILOT_TEST_EMPTY-unset}}]\" > {marker}") with
            {
                When = new WhenConfig { Trigger = new Event(EventCode.Signal, "SIGUSR2"), StartsLimit = -1 },
            }],
        };
        var (supervisor, events, _) = Create(config);
        await StartAsync(supervisor);

        supervisor.PutEnvironment(new Dictionary<string, string> { ["PILOT_TEST_VAR"] = "a=b c", ["PILOT_TEST_EMPTY"] = "" });
        supervisor.HandleSignal(SignalNames.SIGUSR2);
        await events.WaitForAsync(new Event(EventCode.ExitSuccess, "printer"), seconds: 60);

        (await File.ReadAllTextAsync(marker, TestContext.Current.CancellationToken)).Trim().ShouldBe("[a=b c][]");
    }

    [Fact]
    public async Task Maintenance_PublishesOnEveryRequest_AndReportsWhetherTheStateChanged()
    {
        var (supervisor, events, _) = Create(new PilotConfig { Jobs = [ShJob("idle", "sleep 30")] });
        await StartAsync(supervisor);

        (await supervisor.SetMaintenanceAsync(true, TestContext.Current.CancellationToken)).ShouldBeTrue();
        (await supervisor.SetMaintenanceAsync(true, TestContext.Current.CancellationToken)).ShouldBeFalse();
        supervisor.GetStatus().Maintenance.ShouldBeTrue();
        (await supervisor.SetMaintenanceAsync(false, TestContext.Current.CancellationToken)).ShouldBeTrue();

        await events.WaitForAsync(new Event(EventCode.ExitMaintenance, Event.GlobalSource));
        events.Count(new Event(EventCode.EnterMaintenance, Event.GlobalSource)).ShouldBe(2, "v3 publishes on every request");
    }

    [Fact]
    public async Task Shutdown_RequestedBeforeStart_StartsNoJob_AndExitsZero()
    {
        var marker = Path.Combine(_dir, "started");
        var (supervisor, _, _) = Create(new PilotConfig { Jobs = [ShJob("app", $"touch {marker}; sleep 30")] });

        var exit = supervisor.ShutdownAsync();
        await StartAsync(supervisor);

        (await exit.Bounded()).ShouldBe(0);
        supervisor.GetStatus().Jobs.ShouldBeEmpty();
        File.Exists(marker).ShouldBeFalse();
    }

    [Fact]
    public async Task Shutdown_DuringStart_ReachesEveryJob_AndExitsZero()
    {
        var config = new PilotConfig { Jobs = [ShJob("a", "sleep 30"), ShJob("b", "sleep 30"), ShJob("c", "sleep 30")] };
        var (supervisor, _, _) = Create(config);

        var start = StartAsync(supervisor);
        var exit = supervisor.ShutdownAsync();
        await start.Bounded();

        (await exit.Bounded()).ShouldBe(0);
        supervisor.GetStatus().Jobs.ShouldAllBe(j => j.State == JobState.Completed);
    }

    [Fact]
    public async Task Reload_RunsToTheEnd_WhenTheCallerStopsWaiting_AndReloadsRunOneAtATime()
    {
        var path = Path.Combine(_dir, "pilot.json5");
        string Job(string name) => $$"""{ name: "{{name}}", exec: ["sh", "-c", "exec sleep 30"] }""";
        await File.WriteAllTextAsync(path, $"{{ jobs: [ {Job("old")} ] }}", TestContext.Current.CancellationToken);
        var loaded = ConfigLoader.LoadFile(path, ProcessEnvironment.Snapshot());
        var (supervisor, events, _) = Create(loaded.Config!, path);
        await StartAsync(supervisor);
        await events.WaitForAsync(new Event(EventCode.Startup, Event.GlobalSource));
        await File.WriteAllTextAsync(path, $"{{ jobs: [ {Job("new")} ] }}", TestContext.Current.CancellationToken);

        // The caller gives up at once (a client that went away); the reload is the supervisor's and goes on.
        using var gone = new CancellationTokenSource();
        await gone.CancelAsync();
        await Should.ThrowAsync<OperationCanceledException>(() => supervisor.ReloadAsync(gone.Token));
        var second = supervisor.ReloadAsync(TestContext.Current.CancellationToken);
        (await second.Bounded()).Reloaded.ShouldBeTrue();

        await events.WaitForAsync(new Event(EventCode.Stopped, "old"));
        supervisor.GetStatus().Jobs.Select(j => j.Name).ShouldBe(["new"]);
        // The second reload ran after the first had finished: one `startup` each, and the job it kept was never stopped.
        await events.WaitForAsync(new Event(EventCode.Startup, Event.GlobalSource), 3);
        events.Count(new Event(EventCode.Startup, Event.GlobalSource)).ShouldBe(3);
        events.Count(new Event(EventCode.Stopping, "new")).ShouldBe(0);
    }

    [Fact]
    public async Task Components_StartAndStopOnce_HoweverOftenAsked_AndAReloadRestartsOnlyWhatTheHostRuns()
    {
        var component = new CountingComponent();
        var components = new SupervisedComponents(new LogWriter(new LoggingConfig(), output: TextWriter.Null));
        var config = new PilotConfig();
        await using var bus = new EventBus();
        var cancellation = TestContext.Current.CancellationToken;

        await components.StartAsync(config, bus, cancellation); // a reload before the host started it: nothing
        await components.StartAsync(component, config, bus, cancellation); // the host
        await components.StartAsync(config, bus, cancellation); // a reload's start: it runs already
        await components.StopAsync(cancellation); // a reload's stop
        await components.StopAsync(cancellation);
        await components.StartAsync(config, bus, cancellation); // the reload's start
        await components.StopAsync(component, cancellation); // the host
        await components.StopAsync(component, cancellation);
        await components.StartAsync(config, bus, cancellation); // a reload after the host stopped it: nothing

        (component.Starts, component.Stops).ShouldBe((2, 2));
    }

    [Fact]
    public async Task GenericHost_StartsTheJobGraphThenTheComponents_ThenPublishesStartup_AndStopsInReverse()
    {
        var order = new List<string>();
        var config = new PilotConfig { Jobs = [ShJob("app", "exec sleep 30")] };
        var (supervisor, events, _) = Create(config);
        using var observer = supervisor.Bus.Observe(e =>
        {
            if (e == new Event(EventCode.Startup, Event.GlobalSource))
            {
                lock (order)
                {
                    order.Add("startup");
                }
            }
        });
        var first = new RecordingComponent("consul", order, supervisor);
        var second = new RecordingComponent("telemetry", order, supervisor);

        await StartAsync(supervisor, first, second);
        await events.WaitForAsync(new Event(EventCode.Startup, Event.GlobalSource));
        await _hosts[^1].StopAsync(TestContext.Current.CancellationToken).Bounded();

        // The job graph had started the job when the first component started; a host stop shuts the jobs down after the components.
        order.ShouldBe(["start consul (app started)", "start telemetry (app started)", "startup", "stop telemetry", "stop consul"]);
        supervisor.Completion.IsCompletedSuccessfully.ShouldBeTrue();
        supervisor.GetStatus().Jobs.ShouldAllBe(j => j.State == JobState.Completed);
    }

    private sealed class RecordingComponent(string name, List<string> order, PilotSupervisor supervisor) : ISupervisedComponent
    {
        public Task StartAsync(PilotConfig config, EventBus bus, CancellationToken cancellationToken)
        {
            var created = supervisor.GetStatus().Jobs.Any(j => j.Name == "app");
            lock (order)
            {
                order.Add($"start {name} ({(created ? "app started" : "no app")})");
            }
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken)
        {
            lock (order)
            {
                order.Add($"stop {name}");
            }
            return Task.CompletedTask;
        }
    }

    private sealed class CountingComponent : ISupervisedComponent
    {
        public int Starts { get; private set; }

        public int Stops { get; private set; }

        public Task StartAsync(PilotConfig config, EventBus bus, CancellationToken cancellationToken)
        {
            Starts++;
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken)
        {
            Stops++;
            return Task.CompletedTask;
        }
    }

    private static async Task WaitForFileLineAsync(string path, string line, bool contains = false)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!File.Exists(path) || !File.ReadAllLines(path).Any(l => contains ? l.Contains(line, StringComparison.Ordinal) : l == line))
        {
            await Task.Delay(20, timeout.Token);
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^\S+ chatty \d+ ")]
    private static partial System.Text.RegularExpressions.Regex JobLine();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            host.Dispose();
        }
        foreach (var supervisor in _supervisors)
        {
            await supervisor.ShutdownAsync().WaitAsync(TimeSpan.FromSeconds(30));
            await supervisor.DisposeAsync();
            supervisor.Log.Dispose();
        }
        Directory.Delete(_dir, recursive: true);
    }
}

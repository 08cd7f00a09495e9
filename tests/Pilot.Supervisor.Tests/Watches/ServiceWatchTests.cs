using System.Collections.Immutable;
using System.Threading.Channels;
using Pilot.ConsulTestAgent;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Discovery.Consul;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Tests.Discovery;
using Pilot.Supervisor.Watches;
using Shouldly;
using Xunit;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;
using TestAgent = Pilot.ConsulTestAgent.ConsulTestAgent;

namespace Pilot.Supervisor.Tests.Watches;

public sealed class ServiceWatchTests
{
    private static readonly TimeSpan Timeout = ConsulTestSupport.Timeout;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed class Recorder
    {
        public Channel<Event> Events { get; } = Channel.CreateUnbounded<Event>();
        public List<(string Service, int Count)> Gauge { get; } = [];

        public ValueTask Publish(Event e) => Events.Writer.WriteAsync(e);

        public void OnInstances(string service, int count)
        {
            lock (Gauge)
            {
                Gauge.Add((service, count));
            }
        }

        public async Task<Event[]> NextAsync(int count, TimeSpan timeout)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            cts.CancelAfter(timeout);
            var result = new Event[count];
            for (var i = 0; i < count; i++)
            {
                result[i] = await Events.Reader.ReadAsync(cts.Token);
            }
            return result;
        }

        public bool TryRead(out Event e) => Events.Reader.TryRead(out e);
    }

    private static ServiceWatch Watch(TestAgent agent, Recorder recorder, string name, TimeSpan interval, string tag = "", string dc = "", CapturingLogger? logger = null) =>
        new(new WatchConfig { Name = name, Interval = interval, Tag = tag, Dc = dc },
            ConsulTestSupport.ClientFor(agent), recorder.Publish, logger ?? new CapturingLogger(), instancesChanged: recorder.OnInstances);

    private static HealthServiceEntry E(string id, string address, int port, string node = "n1", params string[] tags) =>
        new() { ServiceId = id, Address = address, Port = port, Node = node, Tags = [.. tags] };

    [Fact]
    public void ServiceWatch_HasChanged_FollowsV3Rule()
    {
        ImmutableArray<HealthServiceEntry> before = [E("b", "10.0.0.2", 80), E("a", "10.0.0.1", 80)];
        ServiceWatch.HasChanged(before, [E("a", "10.0.0.1", 80), E("b", "10.0.0.2", 80)]).ShouldBeFalse(); // order
        ServiceWatch.HasChanged(before, [E("a", "10.0.0.1", 80, "n9", "new-tag"), E("b", "10.0.0.2", 80)]).ShouldBeFalse(); // node, tags
        ServiceWatch.HasChanged(before, [E("x", "10.0.0.1", 80), E("y", "10.0.0.2", 80)]).ShouldBeFalse(); // IDs only
        ServiceWatch.HasChanged(before, [E("a", "10.0.0.9", 80), E("b", "10.0.0.2", 80)]).ShouldBeTrue(); // address
        ServiceWatch.HasChanged(before, [E("a", "10.0.0.1", 81), E("b", "10.0.0.2", 80)]).ShouldBeTrue(); // port
        ServiceWatch.HasChanged(before, [E("a", "10.0.0.1", 80)]).ShouldBeTrue(); // count
        ServiceWatch.HasChanged([], []).ShouldBeFalse();
    }

    [Fact]
    public async Task ServiceWatch_Poll_PublishesChangedThenHealthy_AndNothingWhenUnchanged()
    {
        await using var agent = await TestAgent.StartAsync(new ConsulTestAgentOptions { WaitJitter = false }, Ct);
        var recorder = new Recorder();
        await using var watch = Watch(agent, recorder, "db", TimeSpan.FromMilliseconds(200));

        // Nothing there at the first poll: no event (v3), but the gauge says 0.
        await watch.PollOnceAsync(Ct);
        recorder.TryRead(out _).ShouldBeFalse();
        recorder.Gauge.ShouldBe([("db", 0)]);

        ConsulTestSupport.SeedInstance(agent, "db", "db-1", "10.0.0.7", 5432);
        await watch.PollOnceAsync(Ct).WaitAsync(Timeout, Ct);
        (await recorder.NextAsync(2, Timeout)).ShouldBe([new Event(EventCode.StatusChanged, "watch.db"), new Event(EventCode.StatusHealthy, "watch.db")]);
        watch.Snapshot.Instances.ShouldBe([new Control.WatchInstance("db-1", "10.0.0.7", 5432)]);
        watch.Snapshot.LastChecked.ShouldNotBeNull();

        await watch.PollOnceAsync(Ct).WaitAsync(Timeout, Ct); // blocks 200 ms, nothing changed
        recorder.TryRead(out _).ShouldBeFalse();

        agent.State.Deregister("db-1");
        await watch.PollOnceAsync(Ct).WaitAsync(Timeout, Ct);
        (await recorder.NextAsync(2, Timeout)).ShouldBe([new Event(EventCode.StatusChanged, "watch.db"), new Event(EventCode.StatusUnhealthy, "watch.db")]);
        watch.Snapshot.Instances.ShouldBeEmpty();
        recorder.Gauge.Select(g => g.Count).ShouldBe([0, 1, 1, 0]);
    }

    [Fact]
    public async Task ServiceWatch_Poll_SendsV3QueryWithBlockingParameters()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        var recorder = new Recorder();
        await using var watch = Watch(agent, recorder, "db", TimeSpan.FromMilliseconds(100), tag: "primary", dc: "dc1");
        await watch.PollOnceAsync(Ct);
        agent.Requests.Last().Query.ShouldBe("?dc=dc1&passing=1&tag=primary");
        await watch.PollOnceAsync(Ct).WaitAsync(Timeout, Ct);
        agent.Requests.Last().Query.ShouldBe($"?dc=dc1&index={agent.State.ServiceIndex("db")}&passing=1&tag=primary&wait=100ms");
    }

    [Fact]
    public async Task ServiceWatch_Run_SeesScale1To3To1WithinOneSecond()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        var recorder = new Recorder();
        // A long interval: only blocking queries can make changes visible this fast.
        await using var watch = Watch(agent, recorder, "app", TimeSpan.FromSeconds(30));
        ConsulTestSupport.SeedInstance(agent, "app", "app-1", "10.0.0.1", 80);
        watch.Start();
        (await recorder.NextAsync(2, Timeout)).ShouldBe([new Event(EventCode.StatusChanged, "watch.app"), new Event(EventCode.StatusHealthy, "watch.app")]);
        watch.Snapshot.Instances.Length.ShouldBe(1);
        await agent.WaitForRequestAsync(r => r.Query.Contains("index=", StringComparison.Ordinal), Timeout);

        ConsulTestSupport.SeedInstance(agent, "app", "app-2", "10.0.0.2", 80);
        ConsulTestSupport.SeedInstance(agent, "app", "app-3", "10.0.0.3", 80);
        await WaitForInstancesAsync(watch, recorder, 3);

        agent.State.Deregister("app-2");
        agent.State.Deregister("app-3");
        await WaitForInstancesAsync(watch, recorder, 1);
        watch.Snapshot.Instances.Single().ShouldBe(new Control.WatchInstance("app-1", "10.0.0.1", 80));
    }

    /// <summary>Consumes changed/healthy pairs until the watch shows <paramref name="count"/> instances; fails after 1 s.</summary>
    private static async Task WaitForInstancesAsync(ServiceWatch watch, Recorder recorder, int count)
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(1);
        while (watch.Snapshot.Instances.Length != count)
        {
            var remaining = deadline - DateTimeOffset.UtcNow;
            remaining.ShouldBeGreaterThan(TimeSpan.Zero, $"watch did not see {count} instances within 1 s");
            (await recorder.NextAsync(2, remaining)).ShouldBe([new Event(EventCode.StatusChanged, "watch.app"), new Event(EventCode.StatusHealthy, "watch.app")]);
        }
    }

    [Fact]
    public async Task ServiceWatch_TwoWatchesOnOneService_KeepSeparateState()
    {
        await using var agent = await TestAgent.StartAsync(new ConsulTestAgentOptions { WaitJitter = false }, Ct);
        ConsulTestSupport.SeedInstance(agent, "db", "db-1", "10.0.0.1", 5432, "primary");
        ConsulTestSupport.SeedInstance(agent, "db", "db-2", "10.0.0.2", 5432, "replica");
        var primaryEvents = new Recorder();
        var replicaEvents = new Recorder();
        await using var primary = Watch(agent, primaryEvents, "db", TimeSpan.FromMilliseconds(150), tag: "primary");
        await using var replica = Watch(agent, replicaEvents, "db", TimeSpan.FromMilliseconds(150), tag: "replica");

        await primary.PollOnceAsync(Ct);
        await replica.PollOnceAsync(Ct);
        await primary.PollOnceAsync(Ct).WaitAsync(Timeout, Ct);
        await replica.PollOnceAsync(Ct).WaitAsync(Timeout, Ct);

        // v3 kept one list per service name, so alternating polls reported a change every time.
        (await primaryEvents.NextAsync(2, Timeout)).ShouldBe([new Event(EventCode.StatusChanged, "watch.db"), new Event(EventCode.StatusHealthy, "watch.db")]);
        (await replicaEvents.NextAsync(2, Timeout)).ShouldBe([new Event(EventCode.StatusChanged, "watch.db"), new Event(EventCode.StatusHealthy, "watch.db")]);
        primaryEvents.TryRead(out _).ShouldBeFalse();
        replicaEvents.TryRead(out _).ShouldBeFalse();
        primary.Snapshot.Instances.Single().Id.ShouldBe("db-1");
        replica.Snapshot.Instances.Single().Id.ShouldBe("db-2");
    }

    [Fact]
    public async Task ServiceWatch_QueryError_LeavesStateUntouchedAndRecovers()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        ConsulTestSupport.SeedInstance(agent, "db", "db-1", "10.0.0.1", 5432);
        var recorder = new Recorder();
        var logger = new CapturingLogger();
        await using var watch = Watch(agent, recorder, "db", TimeSpan.FromMilliseconds(300), logger: logger);
        await watch.PollOnceAsync(Ct);
        await recorder.NextAsync(2, Timeout);
        var before = watch.Snapshot;

        agent.Fault = AgentFault.Error500;
        agent.State.Deregister("db-1");
        var ex = await Should.ThrowAsync<ConsulResponseException>(() => watch.PollOnceAsync(Ct).WaitAsync(Timeout, Ct));
        ex.StatusCode.ShouldBe(500);
        watch.Snapshot.ShouldBe(before);
        recorder.Gauge.Count.ShouldBe(1);

        // The loop logs v3's warning, backs off, and picks up the change once the agent answers again.
        watch.Start();
        await agent.WaitUntilAsync(() => logger.Count(LogLevel.Warning, "failed to query db: Unexpected response code: 500") >= 1, Timeout, "warning logged");
        recorder.TryRead(out _).ShouldBeFalse();
        agent.Fault = AgentFault.None;
        (await recorder.NextAsync(2, Timeout)).ShouldBe([new Event(EventCode.StatusChanged, "watch.db"), new Event(EventCode.StatusUnhealthy, "watch.db")]);
        watch.Snapshot.Instances.ShouldBeEmpty();
    }

    [Fact]
    public async Task ServiceWatch_AgentRestartEmpty_IsSeenAsUnhealthyChange()
    {
        await using var agent = await TestAgent.StartAsync(cancellationToken: Ct);
        ConsulTestSupport.SeedInstance(agent, "db", "db-1", "10.0.0.1", 5432);
        var recorder = new Recorder();
        await using var watch = Watch(agent, recorder, "db", TimeSpan.FromSeconds(30));
        watch.Start();
        await recorder.NextAsync(2, Timeout);
        await agent.WaitForRequestAsync(r => r.Query.Contains("index=", StringComparison.Ordinal), Timeout);
        await agent.RestartEmptyAsync();
        (await recorder.NextAsync(2, Timeout)).ShouldBe([new Event(EventCode.StatusChanged, "watch.db"), new Event(EventCode.StatusUnhealthy, "watch.db")]);
    }
}

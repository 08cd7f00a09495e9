using System.Collections.Concurrent;
using Pilot.Supervisor.Events;
using Shouldly;

namespace Pilot.Supervisor.Tests.Events;

/// <summary>Which subscriber gets which event: routes by source, rebuilt when the subscribers change.</summary>
public sealed class EventBusTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    private sealed class Inbox
    {
        public ConcurrentQueue<Event> Events { get; } = new();

        public ValueTask Deliver(Event e)
        {
            Events.Enqueue(e);
            return ValueTask.CompletedTask;
        }
    }

    private static HashSet<string> Sources(params string[] sources) => new(sources, StringComparer.Ordinal);

    [Fact]
    public async Task Subscriber_GetsOnlyTheSourcesItNames_AndThoseThatNameIt()
    {
        await using var bus = new EventBus();
        var (app, preStop, other, everything) = (new Inbox(), new Inbox(), new Inbox(), new Inbox());
        using var a = bus.Subscribe("app", Sources("global", "db"), app.Deliver);
        // A pre-stop job of app: it names app, so app hears it.
        using var p = bus.Subscribe("app-prestop", Sources("global", "app"), preStop.Deliver);
        using var o = bus.Subscribe("other", Sources("global"), other.Deliver);
        using var all = bus.Subscribe("all", everything.Deliver);

        Event[] published =
        [
            new(EventCode.ExitSuccess, "check.app"), new(EventCode.StatusHealthy, "app"), new(EventCode.StatusHealthy, "db"),
            new(EventCode.ExitSuccess, "app-prestop"), Event.GlobalShutdown, new(EventCode.ExitSuccess, "nobody"),
        ];
        foreach (var e in published)
        {
            bus.Publish(e);
        }
        await bus.FlushAsync().WaitAsync(Limit, TestContext.Current.CancellationToken);

        app.Events.ShouldBe([new(EventCode.StatusHealthy, "db"), new(EventCode.ExitSuccess, "app-prestop"), Event.GlobalShutdown]);
        preStop.Events.ShouldBe([new(EventCode.StatusHealthy, "app"), Event.GlobalShutdown]);
        other.Events.ShouldBe([Event.GlobalShutdown]);
        everything.Events.ShouldBe(published);
    }

    [Fact]
    public async Task Routes_FollowSubscribersThatComeAndGo()
    {
        await using var bus = new EventBus();
        var (first, second) = (new Inbox(), new Inbox());
        var one = bus.Subscribe("one", Sources("x"), first.Deliver);
        bus.Publish(new Event(EventCode.StatusHealthy, "x"));
        await bus.FlushAsync().WaitAsync(Limit, TestContext.Current.CancellationToken);

        using var two = bus.Subscribe("two", Sources("x"), second.Deliver);
        one.Dispose();
        bus.Publish(new Event(EventCode.StatusUnhealthy, "x"));
        await bus.FlushAsync().WaitAsync(Limit, TestContext.Current.CancellationToken);

        first.Events.ShouldBe([new(EventCode.StatusHealthy, "x")]);
        second.Events.ShouldBe([new(EventCode.StatusUnhealthy, "x")]);
    }
}

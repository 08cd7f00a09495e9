using Pilot.Api.Tests.Support;
using Pilot.Supervisor.Events;
using Shouldly;
using Xunit;

namespace Pilot.Api.Tests.Control;

public sealed class EventStreamTests
{
    [Fact]
    public async Task Events_StreamsOneDataLinePerEvent_FilteredBySource()
    {
        await using var host = await ControlPlaneHost.StartAsync();
        using var response = await host.Client.GetAsync("/v3/events?source=app", HttpCompletionOption.ResponseHeadersRead, host.Token);
        response.Content.Headers.ContentType?.MediaType.ShouldBe("text/event-stream");
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(host.Token));
        (await reader.ReadLineAsync(host.Token)).ShouldBe(": subscribed");

        host.Supervisor.Publish(new Event(EventCode.StatusHealthy, "other"));
        host.Supervisor.Publish(new Event(EventCode.ExitSuccess, "app"));
        host.Supervisor.Publish(new Event(EventCode.StatusUnhealthy, "app"));

        var lines = new List<string>();
        while (lines.Count < 2)
        {
            var line = await reader.ReadLineAsync(host.Token);
            line.ShouldNotBeNull();
            if (line.Length > 0)
            {
                lines.Add(line);
            }
        }
        lines.ShouldBe([
            """data: {"code":"exitSuccess","source":"app"}""",
            """data: {"code":"unhealthy","source":"app"}""",
        ]);
    }

    [Fact]
    public async Task Events_Unsubscribes_WhenTheClientDisconnects()
    {
        await using var host = await ControlPlaneHost.StartAsync();
        using (var response = await host.Client.GetAsync("/v3/events", HttpCompletionOption.ResponseHeadersRead, host.Token))
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(host.Token));
            (await reader.ReadLineAsync(host.Token)).ShouldBe(": subscribed");
            host.Supervisor.Subscribers.ShouldBe(1);
        }

        await host.Supervisor.Unsubscribed.Task.WaitAsync(host.Token);
        host.Supervisor.Subscribers.ShouldBe(0);
    }
}

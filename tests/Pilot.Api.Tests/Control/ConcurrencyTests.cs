using System.Net;
using Pilot.Api.Tests.Support;
using Shouldly;
using Xunit;

namespace Pilot.Api.Tests.Control;

public sealed class ConcurrencyTests
{
    [Fact]
    public async Task ControlPlane_LosesNothing_UnderAThousandConcurrentEnvPutsAndReloads()
    {
        await using var host = await ControlPlaneHost.StartAsync();

        var replies = await Task.WhenAll(Enumerable.Range(0, 1000).Select(async i =>
        {
            var reply = i % 2 == 0
                ? await host.Client.PostJsonAsync(i % 4 == 0 ? "/v3/environ" : "/v3/env", $$"""{"VAR_{{i}}":"value {{i}}"}""", host.Token)
                : await host.Client.PostJsonAsync("/v3/reload", null, host.Token);
            return reply.Status;
        }));

        replies.ShouldAllBe(status => status == HttpStatusCode.OK);
        host.Supervisor.Reloads.ShouldBe(500);
        host.Supervisor.EnvironmentPuts.ShouldBe(500);
        host.Supervisor.Environment.Count.ShouldBe(500);
        host.Supervisor.Environment["VAR_998"].ShouldBe("value 998");
        var (status, _, _) = await host.Client.GetJsonAsync("/v3/ping", host.Token);
        status.ShouldBe(HttpStatusCode.OK);
    }
}

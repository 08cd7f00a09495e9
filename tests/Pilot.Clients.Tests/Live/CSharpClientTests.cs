using Pilot.Client;
using Pilot.Client.Models;
using Pilot.Client.V3.Environ;
using Pilot.Clients.Tests.Support;
using Shouldly;

namespace Pilot.Clients.Tests.Live;

/// <summary>The generated C# client (Kiota) against the real pilot over its Unix socket.</summary>
public sealed class CSharpClientTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task PutEnviron_SeenByLaterChild_ValidVariable()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        await using var pilot = await LivePilot.StartAsync(timeout.Token);
        using var http = PilotClientFactory.CreateHttpClient(pilot.SocketPath);
        var client = PilotClientFactory.Create(http);

        var answer = await client.V3.Environ.PostAsync(
            new EnvironPostRequestBody { AdditionalData = { ["SDK_VALUE"] = "from-csharp" } }, cancellationToken: timeout.Token);
        pilot.SendSigHup();

        answer!.Ok.ShouldBe(true);
        (await pilot.WaitForLineAsync("printed=", timeout.Token)).ShouldEndWith("printed=from-csharp db=");
    }

    [Fact]
    public async Task PutEnviron_ThrowsProblem_InvalidVariableName()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        await using var pilot = await LivePilot.StartAsync(timeout.Token);
        using var http = PilotClientFactory.CreateHttpClient(pilot.SocketPath);
        var client = PilotClientFactory.Create(http);

        var problem = await Should.ThrowAsync<ProblemResponse>(() => client.V3.Environ.PostAsync(
            new EnvironPostRequestBody { AdditionalData = { ["BAD=NAME"] = "x" } }, cancellationToken: timeout.Token));

        problem.ResponseStatusCode.ShouldBe(422);
        problem.Errors.ShouldNotBeNull().ShouldContain(e => e.Message!.Contains("BAD=NAME", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EnableMaintenance_ShownInStatus_WhenRunning()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        await using var pilot = await LivePilot.StartAsync(timeout.Token);
        using var http = PilotClientFactory.CreateHttpClient(pilot.SocketPath);
        var client = PilotClientFactory.Create(http);

        var before = await client.V3.Status.GetAsync(cancellationToken: timeout.Token);
        var enabled = await client.V3.Maintenance.Enable.PostAsync(cancellationToken: timeout.Token);
        var after = await client.V3.Status.GetAsync(cancellationToken: timeout.Token);

        before!.Maintenance.ShouldBe(false);
        enabled!.Updated.ShouldBe(true);
        after!.Maintenance.ShouldBe(true);
    }

    [Fact]
    public async Task ReadmeExample_PutsEnvMetricAndMaintenance_AndCatchesTheProblem()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        await using var pilot = await LivePilot.StartAsync(timeout.Token);

        var status = await Pilot.Client.Examples.Usage.RunAsync(pilot.SocketPath, timeout.Token);
        pilot.SendSigHup();

        status!.Maintenance.ShouldBe(true);
        (await pilot.WaitForLineAsync("printed=", timeout.Token)).ShouldEndWith("db=10.0.0.5");
    }

    [Fact]
    public async Task GetStatus_ListsConfiguredJobs_WhenRunning()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        await using var pilot = await LivePilot.StartAsync(timeout.Token);
        using var http = PilotClientFactory.CreateHttpClient(pilot.SocketPath);
        var client = PilotClientFactory.Create(http);

        var status = await client.V3.Status.GetAsync(cancellationToken: timeout.Token);
        var app = await client.V3.Jobs["app"].GetAsync(cancellationToken: timeout.Token);

        status!.Jobs.ShouldNotBeNull().Select(j => j.Name).ShouldBe(["app", "printer", "containerpilot"], ignoreOrder: true);
        status.Version.ShouldNotBeNullOrEmpty();
        app!.Name.ShouldBe("app");
        app.Pid.ShouldNotBeNull().ShouldBeGreaterThan(0);
    }
}

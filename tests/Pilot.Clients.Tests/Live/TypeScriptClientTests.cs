using Pilot.Clients.Tests.Support;
using Shouldly;

namespace Pilot.Clients.Tests.Live;

/// <summary>
/// The generated TypeScript client (openapi-typescript + openapi-fetch over undici) against the real pilot: runs
/// clients/typescript/test with <c>node --test</c>, then checks what its put env did to a later child.
/// </summary>
public sealed class TypeScriptClientTests
{
    [Fact]
    public async Task NodeTests_Pass_AgainstRunningPilot()
    {
        Repository.RequireNodeModules();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await using var pilot = await LivePilot.StartAsync(timeout.Token);

        var run = await Repository.RunAsync(
            "node", ["--test", "--test-reporter=tap", "test/"], Repository.TypeScriptClient, timeout.Token,
            new Dictionary<string, string> { ["PILOT_SOCKET"] = pilot.SocketPath });
        pilot.SendSigHup();

        run.ExitCode.ShouldBe(0, run.Output);
        run.Stdout.ShouldContain("# pass 4", customMessage: run.Output);
        run.Stdout.ShouldContain("# fail 0", customMessage: run.Output);
        // The node test put SDK_VALUE; the printer job started after it sees it.
        (await pilot.WaitForLineAsync("printed=", timeout.Token)).ShouldEndWith("printed=from-typescript");
    }
}

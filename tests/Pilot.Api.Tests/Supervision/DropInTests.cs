using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Supervision;

/// <summary>
/// What a container that runs under ContainerPilot v3 relies on, checked with the real <c>pilot</c> binary (also under
/// Native AOT in CI): the differences found by running real v3 configs and scenarios under both.
/// </summary>
public sealed class DropInTests
{
    private const int SIGTERM = 15;

    [Fact]
    public async Task Job_HasDevNullAsStdin_SoTailDashFStaysUp()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            {
              control: { socket: "SOCKET" },
              jobs: [
                { name: "keep", exec: ["tail", "-f"] },
                { name: "stdin", exec: ["sh", "-c", "echo stdin=$(readlink /proc/self/fd/0)"] },
                { name: "health-stdin", exec: ["sleep", "30"], health: { exec: ["sh", "-c", "echo check-stdin=$(readlink /proc/self/fd/0)"], interval: 1, ttl: 5 } },
                { name: "later", when: { source: "stdin", once: "exitSuccess" },
                  exec: ["sh", "-c", "sleep 0.5; kill -0 $CONTAINERPILOT_KEEP_PID && echo keep-alive=$(readlink /proc/$CONTAINERPILOT_KEEP_PID/fd/0)"] },
              ],
            }
            """);

        (await pilot.WaitForLineAsync("stdin=", timeout.Token)).ShouldEndWith("stdin=/dev/null");
        (await pilot.WaitForLineAsync("check-stdin=", timeout.Token)).ShouldEndWith("check-stdin=/dev/null");
        (await pilot.WaitForLineAsync("keep-alive=", timeout.Token)).ShouldEndWith("keep-alive=/dev/null", Case.Sensitive, pilot.Output);
        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }

    [Fact]
    public async Task JobPid_IsInTheEnvironmentOfEveryProcessStartedWhileItRuns_AndGoneAfter()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            {
              control: { socket: "SOCKET" },
              jobs: [
                { name: "my-app.v2", exec: ["sh", "-c", "echo app-pid=$$; exec sleep 30"] },
                { name: "short", exec: "true" },
                { name: "after-short", when: { source: "short", once: "exitSuccess" },
                  exec: ["sh", "-c", "echo seen-app=${CONTAINERPILOT_MY_APP_PID:-unset} seen-short=${CONTAINERPILOT_SHORT_PID:-unset} self=${CONTAINERPILOT_AFTER_SHORT_PID:-unset}"] },
                { name: "checked", exec: ["sleep", "30"],
                  health: { exec: ["sh", "-c", "echo check-sees-app=${CONTAINERPILOT_MY_APP_PID:-unset}"], interval: 1, ttl: 5 } },
              ],
            }
            """);

        var appPid = (await pilot.WaitForLineAsync("app-pid=", timeout.Token)).Split("app-pid=")[1];
        var seen = await pilot.WaitForLineAsync("seen-app=", timeout.Token);
        seen.ShouldEndWith($"seen-app={appPid} seen-short=unset self=unset", Case.Sensitive, pilot.Output);
        (await pilot.WaitForLineAsync("check-sees-app=", timeout.Token)).ShouldEndWith($"check-sees-app={appPid}");
        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }

    [Fact]
    public async Task JobPid_IsSeenByTheTemplateOfAReload()
    {
        using var timeout = PilotProcess.Timeout();
        const string Config = """
            {
              control: { socket: "SOCKET" },
              jobs: [
                { name: "app", exec: ["sh", "-c", "echo app-pid=$$; exec sleep 30"] },
                { name: "render", exec: ["echo", "rendered=[{{ .CONTAINERPILOT_APP_PID }}]"] },
              ],
            }
            """;
        await using var pilot = RunningPilot.Start(Config);
        var appPid = (await pilot.WaitForLineAsync("app-pid=", timeout.Token)).Split("app-pid=")[1];
        (await pilot.WaitForLineAsync("rendered=", timeout.Token)).ShouldEndWith("rendered=[]");
        await pilot.WaitForSocketAsync(timeout.Token);

        using var client = pilot.CreateClient();
        (await client.PostAsync("/v3/reload", null, timeout.Token)).EnsureSuccessStatusCode();

        (await pilot.WaitForLineAsync("rendered=[", timeout.Token, occurrences: 2)).ShouldNotBeNull();
        pilot.Lines.Last(l => l.Contains("rendered=[", StringComparison.Ordinal)).ShouldEndWith($"rendered=[{appPid}]", Case.Sensitive, pilot.Output);
        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }
}

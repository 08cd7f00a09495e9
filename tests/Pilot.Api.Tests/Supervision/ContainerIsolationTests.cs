using System.Text.RegularExpressions;
using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Supervision;

/// <summary>
/// Pilot shares its container with an application: the application's ASP.NET settings (an <c>appsettings.json</c> in
/// the working directory, <c>ASPNETCORE_*</c> variables) must not open listeners in Pilot or make it watch files.
/// </summary>
public sealed class ContainerIsolationTests
{
    [Fact]
    public async Task ApplicationsAspNetSettings_OpenNoTcpListener_AndNoFileWatch_InPilot()
    {
        using var timeout = PilotProcess.Timeout();
        var fromAppSettings = LoopbackPort.Free();
        var fromUrls = LoopbackPort.Free();
        var fromHttpPorts = LoopbackPort.Free();
        await using var pilot = RunningPilot.Start(
            """
            {
              control: { socket: "SOCKET" },
              jobs: [ { name: "app", exec: ["sh", "-c", "echo app-up; exec sleep 60"] } ],
            }
            """,
            environment: new Dictionary<string, string>
            {
                ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{fromUrls}",
                ["ASPNETCORE_HTTP_PORTS"] = $"{fromHttpPorts}",
            },
            prepareDirectory: directory => File.WriteAllText(Path.Combine(directory, "appsettings.json"), $$"""
                { "Kestrel": { "Endpoints": { "Http": { "Url": "http://127.0.0.1:{{fromAppSettings}}" } } } }
                """));
        await pilot.WaitForSocketAsync(timeout.Token);
        await pilot.WaitForLineAsync("app-up", timeout.Token);

        foreach (var port in new[] { fromAppSettings, fromUrls, fromHttpPorts })
        {
            (await LoopbackPort.IsListenedOnAsync(port, timeout.Token)).ShouldBeFalse($"port {port}\n{pilot.Output}");
        }
        var descriptors = new DirectoryInfo($"/proc/{pilot.Pid}/fd").GetFiles().Select(fd => fd.LinkTarget).ToList();
        descriptors.ShouldNotContain("anon_inode:inotify");
    }

    [Fact]
    public async Task Jobs_InheritNoRuntimeVariables_ThatPilotWasNotGiven()
    {
        // Pilot's GC settings are its own (compiled in, or in its runtimeconfig): a DOTNET_* variable would reach every job.
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start(
            """
            {
              control: { socket: "SOCKET" },
              jobs: [ { name: "env", exec: ["sh", "-c", "env | grep -oE '^(DOTNET|COMPlus|CORECLR)_[A-Za-z0-9_]*' | sed 's/^/runtime-variable /'; echo env-done"] } ],
            }
            """);
        await pilot.WaitForLineAsync("env-done", timeout.Token);

        var seen = pilot.Lines.Select(l => Regex.Match(l, "runtime-variable ([A-Za-z0-9_]+)")).Where(m => m.Success).Select(m => m.Groups[1].Value);
        var given = Environment.GetEnvironmentVariables().Keys.Cast<string>().Where(k => Regex.IsMatch(k, "^(DOTNET|COMPlus|CORECLR)_"));
        seen.ShouldBe(given, ignoreOrder: true, pilot.Output);
    }
}

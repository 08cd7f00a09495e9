using System.Net;
using System.Text;
using System.Text.Json;
using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Supervision;

/// <summary>
/// The real pilot under everything at once: 200 reloads from four clients (each flipping the config between two
/// variants), 1,000 other control-plane requests, and jobs crashing and restarting the whole time. The final state must
/// be exactly the last config written: every job once, no process of a removed or replaced job left, the untouched job
/// never restarted.
/// </summary>
public sealed class ReloadStressTests
{
    private const int ReloadClients = 4, ReloadsPerClient = 50, RequestClients = 4, RequestsPerClient = 250;

    /// <summary>A long-running job; its marker ($0 of sh) tells its process apart in /proc.</summary>
    private static string Sleeper(string name, string marker) =>
        $$"""{ name: "{{name}}", exec: ["sh", "-c", "while :; do sleep 1; done", "stress-{{marker}}-DIR"] }""";

    private static string Config(bool alpha) => $$"""
        {
          control: { socket: "SOCKET" },
          stopTimeout: 10,
          jobs: [
            {{Sleeper("steady", "steady")}},
            { name: "crasher-1", exec: ["sh", "-c", "sleep 0.05; exit 3", "stress-crasher-1-DIR"], restarts: "unlimited" },
            { name: "crasher-2", exec: ["sh", "-c", "sleep 0.1; exit 4", "stress-crasher-2-DIR"], restarts: "unlimited" },
            {{Sleeper("changing", alpha ? "changing-a" : "changing-b")}},
            {{(alpha ? Sleeper("alpha", "alpha") : Sleeper("beta", "beta"))}},
          ],
        }
        """;

    [Fact]
    public async Task Pilot_EndsInTheLastConfig_WithEveryJobOnce_After200ReloadsAThousandRequestsAndCrashingJobs()
    {
        using var timeout = PilotProcess.Timeout(TimeSpan.FromMinutes(5));
        await using var pilot = RunningPilot.Start(Config(alpha: true));
        await pilot.WaitForSocketAsync(timeout.Token);
        using var client = pilot.CreateClient();
        var steadyPid = await WaitForPidAsync(client, "steady", timeout.Token);
        var writeLock = new Lock();
        var lastAlpha = true;
        var flips = 0;

        var reloads = Enumerable.Range(0, ReloadClients).Select(_ => Task.Run(async () =>
        {
            var answers = new List<(HttpStatusCode, string)>();
            for (var i = 0; i < ReloadsPerClient; i++)
            {
                lock (writeLock)
                {
                    lastAlpha = Interlocked.Increment(ref flips) % 2 == 0;
                    // Written whole and renamed into place: a reload never reads half a file.
                    var staging = pilot.ConfigPath + ".new";
                    File.WriteAllText(staging, RunningPilot.Render(Config(lastAlpha), pilot.Directory, pilot.SocketPath));
                    File.Move(staging, pilot.ConfigPath, overwrite: true);
                }
                using var response = await client.PostAsync("/v3/reload", null, timeout.Token);
                answers.Add((response.StatusCode, await response.Content.ReadAsStringAsync(timeout.Token)));
            }
            return answers;
        }, timeout.Token)).ToList();
        var requests = Enumerable.Range(0, RequestClients).Select(worker => Task.Run(async () =>
        {
            var codes = new List<(string, HttpStatusCode)>();
            for (var i = 0; i < RequestsPerClient; i++)
            {
                (string Path, string? Body) request = (i % 5) switch
                {
                    0 => ("/v3/env", $$"""{"STRESS_{{worker}}_{{i}}": "{{i}}"}"""),
                    1 => ("/v3/status", null),
                    2 => ("/v3/ping", null),
                    3 => (i % 2 == 0 ? "/v3/maintenance/enable" : "/v3/maintenance/disable", ""),
                    _ => ("/v3/jobs/steady", null),
                };
                using var response = request.Body is null
                    ? await client.GetAsync(request.Path, timeout.Token)
                    : await client.PostAsync(request.Path, new StringContent(request.Body, Encoding.UTF8, "application/json"), timeout.Token);
                codes.Add((request.Path, response.StatusCode));
            }
            return codes;
        }, timeout.Token)).ToList();

        var reloadAnswers = (await Task.WhenAll(reloads)).SelectMany(a => a).ToList();
        var requestCodes = (await Task.WhenAll(requests)).SelectMany(c => c).ToList();
        (await client.PostAsync("/v3/maintenance/disable", null, timeout.Token)).StatusCode.ShouldBe(HttpStatusCode.OK);

        reloadAnswers.Count.ShouldBe(ReloadClients * ReloadsPerClient);
        reloadAnswers.ShouldAllBe(a => a.Item1 == HttpStatusCode.OK && a.Item2.Contains("\"reloaded\":true"), pilot.Output);
        requestCodes.Count.ShouldBe(RequestClients * RequestsPerClient);
        requestCodes.Where(c => c.Item2 != HttpStatusCode.OK).ShouldBeEmpty();
        pilot.Lines.Count(l => l.Contains("config reloaded", StringComparison.Ordinal)).ShouldBe(ReloadClients * ReloadsPerClient);

        // Exactly the last config written, each job once.
        var jobs = await JobsAsync(client, timeout.Token);
        var added = lastAlpha ? "alpha" : "beta";
        jobs.Select(j => j.Name).ShouldBe(["steady", "crasher-1", "crasher-2", "changing", added], ignoreOrder: true);
        jobs.Select(j => j.Name).Distinct().Count().ShouldBe(jobs.Count);
        var byName = jobs.ToDictionary(j => j.Name);
        byName["steady"].Pid.ShouldBe(steadyPid, "a job no reload changed is never restarted");
        foreach (var name in new[] { "steady", "changing", added })
        {
            byName[name].State.ShouldBe("running");
            byName[name].Pid.ShouldNotBeNull();
        }
        byName["crasher-1"].Restarts.ShouldBeGreaterThan(0);
        byName["crasher-2"].Restarts.ShouldBeGreaterThan(0);

        // The processes are those of the last config: one per long-running job, none of a job removed or replaced.
        var marked = MarkedProcesses(pilot.Directory);
        marked.GetValueOrDefault("steady").ShouldBe([steadyPid!.Value]);
        marked.GetValueOrDefault(lastAlpha ? "changing-a" : "changing-b").ShouldBe([byName["changing"].Pid!.Value]);
        marked.GetValueOrDefault(added).ShouldBe([byName[added].Pid!.Value]);
        marked.GetValueOrDefault(lastAlpha ? "changing-b" : "changing-a", []).ShouldBeEmpty();
        marked.GetValueOrDefault(lastAlpha ? "beta" : "alpha", []).ShouldBeEmpty();
        marked.GetValueOrDefault("crasher-1", []).Count.ShouldBeLessThanOrEqualTo(1);
        marked.GetValueOrDefault("crasher-2", []).Count.ShouldBeLessThanOrEqualTo(1);

        pilot.Signal(15);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        MarkedProcesses(pilot.Directory).ShouldBeEmpty("nothing of any job outlives Pilot's shutdown");
    }

    private sealed record JobView(string Name, string State, int? Pid, int Restarts);

    private static async Task<List<JobView>> JobsAsync(HttpClient client, CancellationToken token)
    {
        var status = JsonDocument.Parse(await client.GetStringAsync("/v3/status", token)).RootElement;
        return [.. status.GetProperty("jobs").EnumerateArray().Select(j => new JobView(
            j.GetProperty("name").GetString()!,
            j.GetProperty("state").GetString()!,
            j.TryGetProperty("pid", out var pid) && pid.ValueKind == JsonValueKind.Number ? pid.GetInt32() : null,
            j.GetProperty("restarts").GetInt32()))];
    }

    private static async Task<int?> WaitForPidAsync(HttpClient client, string job, CancellationToken token)
    {
        while (true)
        {
            if ((await JobsAsync(client, token)).FirstOrDefault(j => j.Name == job) is { Pid: { } pid })
            {
                return pid;
            }
            await Task.Delay(50, token);
        }
    }

    /// <summary>Live processes by marker (<c>stress-&lt;marker&gt;-&lt;this test's dir&gt;</c> in their command line).</summary>
    private static Dictionary<string, List<int>> MarkedProcesses(string directory)
    {
        var suffix = "-" + directory;
        var found = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out var pid))
            {
                continue;
            }
            string[] arguments;
            try
            {
                arguments = File.ReadAllText(Path.Combine(entry, "cmdline")).Split('\0');
            }
            catch (IOException)
            {
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }
            foreach (var argument in arguments.Where(a => a.StartsWith("stress-", StringComparison.Ordinal) && a.EndsWith(suffix, StringComparison.Ordinal)))
            {
                var marker = argument["stress-".Length..^suffix.Length];
                if (!found.TryGetValue(marker, out var pids))
                {
                    found[marker] = pids = [];
                }
                pids.Add(pid);
            }
        }
        return found;
    }
}

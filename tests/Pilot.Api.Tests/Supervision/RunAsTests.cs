using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Supervision;

/// <summary>
/// Job <c>user</c> / <c>group</c> with the real <c>pilot</c> binary and a real second user created by the test: the job
/// and its health check run with that user's ids and groups; a Pilot that is not root says it cannot at start.
/// </summary>
public sealed class RunAsTests
{
    [Fact]
    public async Task JobAndItsHealthCheck_RunAsTheUser_WithItsGroups()
    {
        Assert.SkipWhen(TestAccount.Unavailable is not null, TestAccount.Unavailable ?? "");
        using var timeout = PilotProcess.Timeout();
        using var account = TestAccount.Create();
        await using var pilot = RunningPilot.Start($$"""
            {
              control: { socket: "SOCKET" },
              jobs: [
                {
                  name: "app",
                  user: "{{account.User}}",
                  exec: ["sh", "-c", "echo job-uid=$(id -u) job-groups=$(id -G | tr ' ' ','); exec sleep 600"],
                  health: { exec: ["sh", "-c", "printf 'check-%s=%s check-gid=%s\\n' uid $(id -u) $(id -g)"], interval: 1, ttl: 5, timeout: "10s" },
                },
                { name: "by-ids", user: "{{account.Uid}}", group: "{{account.ExtraGroup}}", exec: ["sh", "-c", "echo ids-uid=$(id -u) ids-groups=$(id -G)"] },
              ],
            }
            """);

        (await pilot.WaitForLineAsync("job-uid=", timeout.Token)).ShouldEndWith($"job-uid={account.Uid} job-groups={account.Gid},{account.ExtraGid}");
        (await pilot.WaitForLineAsync("check-uid=", timeout.Token)).ShouldEndWith($"check-uid={account.Uid} check-gid={account.Gid}");
        // By uid, with a group named: as initgroups(user, group), that group and the ones listing the user (not its passwd group).
        (await pilot.WaitForLineAsync("ids-uid=", timeout.Token)).ShouldEndWith($"ids-uid={account.Uid} ids-groups={account.ExtraGid}");
        (await NetworkHealthCheckTests.JobFieldAsync(pilot, "app", "user", timeout.Token)).ShouldBe(account.User);
        (await NetworkHealthCheckTests.JobFieldAsync(pilot, "by-ids", "user", timeout.Token)).ShouldBe($"{account.Uid}:{account.ExtraGroup}");
        pilot.Signal(15);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }

    [Fact]
    public async Task JobRunAsAUser_GetsItsLoginEnvironment_UnlessPutenvGivesIt_AndItsNotifySocketIsItsOwn()
    {
        Assert.SkipWhen(TestAccount.Unavailable is not null, TestAccount.Unavailable ?? "");
        using var timeout = PilotProcess.Timeout();
        using var account = TestAccount.Create();
        await using var pilot = RunningPilot.Start($$"""
            {
              control: { socket: "SOCKET" },
              jobs: [
                { name: "app", user: "{{account.User}}", exec: ["sh", "-c", "echo login=$HOME,$USER,$LOGNAME; exec sleep 600"] },
                { name: "own", exec: ["sh", "-c", "echo own=$HOME,$USER,$LOGNAME"] },
                {
                  name: "notified", user: "{{account.User}}", health: { notify: true },
                  exec: ["sh", "-c", "systemd-notify --ready --status=as-$(id -u) && exec sleep 600"],
                },
                { name: "on-ready", exec: "echo notified-is-healthy", when: { source: "notified", once: "healthy" } },
              ],
            }
            """, environment: new Dictionary<string, string> { ["HOME"] = "/pilot-home", ["USER"] = "pilot-user", ["LOGNAME"] = "pilot-user" });

        (await pilot.WaitForLineAsync("login=", timeout.Token)).ShouldEndWith($"login={account.Home},{account.User},{account.User}");
        // A job run as Pilot's own user keeps Pilot's environment.
        (await pilot.WaitForLineAsync("own=", timeout.Token)).ShouldEndWith("own=/pilot-home,pilot-user,pilot-user");
        // The job's notify socket is the user's: its own systemd-notify reaches it.
        await pilot.WaitForLineAsync("notified-is-healthy", timeout.Token);
        using (var client = pilot.CreateClient())
        {
            using var status = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync("/v3/status", timeout.Token));
            var notify = status.RootElement.GetProperty("jobs").EnumerateArray().Single(j => j.GetProperty("name").GetString() == "notified").GetProperty("notify");
            notify.GetProperty("status").GetString().ShouldBe($"as-{account.Uid}");
            var socket = notify.GetProperty("socket").GetString()!;
            File.GetUnixFileMode(socket).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);

            // What an operator puts wins over the login's.
            using var put = await client.PostAsync("/v3/environ", new StringContent("""{"HOME":"/srv/elsewhere"}"""), timeout.Token);
            put.EnsureSuccessStatusCode();
            using var restart = await client.PostAsync("/v3/jobs/app/restart", null, timeout.Token);
            restart.EnsureSuccessStatusCode();
        }
        (await pilot.WaitForLineAsync("login=/srv/elsewhere", timeout.Token)).ShouldEndWith($"login=/srv/elsewhere,{account.User},{account.User}");

        pilot.Signal(15);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }

    [Fact]
    public async Task Job_FailsToStartWithAClearError_WhenPilotIsNotRoot()
    {
        Assert.SkipWhen(TestAccount.Unavailable is not null, TestAccount.Unavailable ?? "");
        using var timeout = PilotProcess.Timeout();
        using var account = TestAccount.Create();
        // Pilot itself runs as the new user (its directory opened to it), and asks to run a job as root.
        await using var pilot = RunningPilot.Start("""
            { control: { socket: "SOCKET" }, jobs: [ { name: "app", user: "root", exec: "true" } ] }
            """,
            wrapper: ["setpriv", $"--reuid={account.Uid}", $"--regid={account.Gid}", "--clear-groups"],
            prepareDirectory: directory => File.SetUnixFileMode(directory, (UnixFileMode)Convert.ToInt32("777", 8)));

        await pilot.WaitForLineAsync("unable to start app", timeout.Token);
        await pilot.WaitForExitAsync(timeout.Token);
        pilot.Output.ShouldContain($"unable to start app: cannot run as user \"root\": Pilot runs as uid {account.Uid}, not root: operation not permitted");
    }
}

using Pilot.Supervisor.Config;
using Pilot.Supervisor.Config.Decoding;
using Pilot.Supervisor.Config.Validation;
using Shouldly;

namespace Pilot.Supervisor.Tests.Config;

/// <summary>Job <c>user</c> / <c>group</c>: resolved as initgroups would, refused at load with the field named.</summary>
public sealed class RunAsConfigTests
{
    private static readonly AccountDatabase Accounts = new(
        """
        root:x:0:0:root:/root:/bin/bash
        www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
        # a comment
        app:x:1000:1000::/home/app:/bin/sh
        """,
        """
        root:x:0:
        www-data:x:33:
        app:x:1000:
        docker:x:999:app,www-data
        video:x:44:app
        """);

    private static (RunAs? RunAs, List<ConfigError> Errors) Resolve(string? user, string? group) =>
        RunAsRules.Resolve(new RawJob { Path = "jobs[0]", Line = 3, Index = 0, Name = "web", User = user, Group = group }, Accounts);

    [Fact]
    public void UserByName_TakesItsPrimaryGroup_AndTheGroupsListingIt()
    {
        var runAs = Resolve("app", null).RunAs!;

        runAs.Uid.ShouldBe(1000);
        runAs.Gid.ShouldBe(1000);
        runAs.Groups.ShouldBe([1000, 999, 44]);
        runAs.ShimArguments.ShouldBe(["1000", "1000", "1000,999,44"]);
    }

    [Fact]
    public void NumericIds_AndAGroupByName_AreTaken()
    {
        Resolve("33", "docker").RunAs.ShouldBe(new RunAs
        {
            User = "33", Group = "docker", Uid = 33, Gid = 999, Groups = [999], LoginName = "www-data", Home = "/var/www",
        });
        Resolve("4242", "4242").RunAs.ShouldBe(new RunAs { User = "4242", Group = "4242", Uid = 4242, Gid = 4242, Groups = [4242] });
        Resolve(null, "video").RunAs!.ShimArguments.ShouldBe(["-", "44", "44"]);
    }

    [Theory]
    [InlineData("ap", null, "jobs[0].user", "job[web].user: unknown user \"ap\" (not in /etc/passwd) (did you mean 'app'?)")]
    [InlineData("app", "dockr", "jobs[0].group", "job[web].group: unknown group \"dockr\" (not in /etc/group) (did you mean 'docker'?)")]
    [InlineData("4242", null, "jobs[0].user", "job[web].user: uid 4242 has no entry in /etc/passwd, so its group is unknown: set 'group' too")]
    public void UnknownNames_AreRefused_NamingTheField(string? user, string? group, string path, string message)
    {
        var (runAs, errors) = Resolve(user, group);

        runAs.ShouldBeNull();
        var error = errors.ShouldHaveSingleItem();
        error.Path.ShouldBe(path);
        error.Message.ShouldBe(message);
    }

    [Fact]
    public void ConfigLoader_ResolvesAgainstThisMachine_AndReportsTheLine()
    {
        var result = ConfigLoader.Parse("""
            { jobs: [
              { name: "a", exec: "true", user: "root" },
              { name: "b", exec: "true",
                user: "no-such-user-here" },
            ] }
            """, new Dictionary<string, string>());

        var error = result.Errors.ShouldHaveSingleItem();
        error.Path.ShouldBe("jobs[1].user");
        error.Line.ShouldBe(4);
        error.Message.ShouldStartWith("job[b].user: unknown user \"no-such-user-here\" (not in /etc/passwd)");
    }

    [Fact]
    public void ConfigLoader_WithoutUserOrGroup_KeepsPilotsOwnIds() =>
        ConfigLoader.Parse("{ jobs: [ { name: 'a', exec: 'true' } ] }", new Dictionary<string, string>()).Config!.Jobs[0].RunAs.ShouldBeNull();

    [Fact]
    public void UserByName_GetsTheLoginEnvironmentOfItsPasswdEntry()
    {
        Resolve("app", null).RunAs!.LoginEnvironment().ShouldBe(
            [new("HOME", "/home/app"), new("USER", "app"), new("LOGNAME", "app")]);
        Resolve("33", null).RunAs!.LoginEnvironment().ShouldBe(
            [new("HOME", "/var/www"), new("USER", "www-data"), new("LOGNAME", "www-data")]);
    }

    [Fact]
    public void UidWithoutEntry_OrGroupOnly_GetNoLoginEnvironment()
    {
        Resolve("4321", "video").RunAs!.LoginEnvironment().ShouldBeEmpty();
        Resolve(null, "video").RunAs!.LoginEnvironment().ShouldBeEmpty();
    }
}

using System.Collections.Immutable;
using Pilot.Supervisor.Config.Decoding;

namespace Pilot.Supervisor.Config.Validation;

/// <summary>
/// Job <c>user</c> / <c>group</c> (Pilot extension): names and ids resolved against this machine's accounts at load
/// (start, reload, <c>-validate</c>), so a missing name is a config error naming the field, not a failed start.
/// </summary>
internal static class RunAsRules
{
    public static (RunAs? RunAs, List<ConfigError> Errors) Resolve(RawJob job, AccountDatabase accounts)
    {
        var errors = new List<ConfigError>();
        if (job.User is null && job.Group is null)
        {
            return (null, errors);
        }
        void Fail(string key, string message) => errors.Add(new ConfigError($"{job.Path}.{key}", message, job.LineOf(key)));

        AccountDatabase.UserEntry? user = null;
        int? uid = null;
        if (job.User is { } userText)
        {
            if (AccountDatabase.IsId(userText))
            {
                uid = AccountDatabase.Id(userText);
                user = accounts.User(uid.Value);
            }
            else if ((user = accounts.User(userText)) is not null)
            {
                uid = user.Uid;
            }
            else
            {
                Fail("user", $"job[{job.Name}].user: unknown user \"{userText}\" (not in /etc/passwd)" + ObjectReader.DidYouMean(userText, accounts.Users.Select(u => u.Name)));
            }
        }

        int? gid = null;
        if (job.Group is { } groupText)
        {
            if (AccountDatabase.IsId(groupText))
            {
                gid = AccountDatabase.Id(groupText);
            }
            else if (accounts.Group(groupText) is { } group)
            {
                gid = group.Gid;
            }
            else
            {
                Fail("group", $"job[{job.Name}].group: unknown group \"{groupText}\" (not in /etc/group)" + ObjectReader.DidYouMean(groupText, accounts.Groups.Select(g => g.Name)));
            }
        }
        else if (user is not null)
        {
            gid = user.Gid;
        }
        else if (uid is not null)
        {
            Fail("user", $"job[{job.Name}].user: uid {uid} has no entry in /etc/passwd, so its group is unknown: set 'group' too");
        }

        if (errors.Count > 0 || gid is null)
        {
            return (null, errors);
        }
        ImmutableArray<int> groups = user is null ? [gid.Value] : [.. accounts.GroupsOf(user.Name, gid.Value)];
        return (new RunAs
        {
            User = job.User, Group = job.Group, Uid = uid, Gid = gid.Value, Groups = groups,
            LoginName = user?.Name, Home = user is { Home.Length: > 0 } ? user.Home : null,
        }, errors);
    }
}

using System.Collections.Immutable;
using System.Globalization;

namespace Pilot.Supervisor.Config;

/// <summary>
/// Pilot extension: job <c>user</c> / <c>group</c>, resolved at load. The job and its exec health check switch to these
/// ids in the exec shim, after fork and before exec: supplementary groups, then the group, then the user.
/// </summary>
public sealed record RunAs
{
    /// <summary><c>user</c> as written (a name or a uid); null when only <c>group</c> is set.</summary>
    public string? User { get; init; }
    /// <summary><c>group</c> as written; null when it is the user's primary group.</summary>
    public string? Group { get; init; }
    /// <summary>Null: keep Pilot's user, change only the group.</summary>
    public int? Uid { get; init; }
    public required int Gid { get; init; }
    /// <summary>The user's groups in /etc/group and <see cref="Gid"/>, as <c>initgroups</c> gives a login.</summary>
    public ImmutableArray<int> Groups { get; init; } = [];
    /// <summary>The user's name in /etc/passwd (null: a uid with no entry, or only <c>group</c> set).</summary>
    public string? LoginName { get; init; }
    /// <summary>The user's home directory in /etc/passwd (null when it has none).</summary>
    public string? Home { get; init; }

    /// <summary>
    /// What a login sets for the user (login(1), su -): <c>HOME</c>, <c>USER</c>, <c>LOGNAME</c>; empty when the user
    /// has no /etc/passwd entry.
    /// </summary>
    public IEnumerable<KeyValuePair<string, string>> LoginEnvironment()
    {
        if (LoginName is not { } name)
        {
            yield break;
        }
        if (Home is { } home)
        {
            yield return new("HOME", home);
        }
        yield return new("USER", name);
        yield return new("LOGNAME", name);
    }

    /// <summary>The shim's arguments: <c>UID GID G1,G2</c> (<c>-</c> for an unchanged uid).</summary>
    public IEnumerable<string> ShimArguments =>
    [
        Uid?.ToString(CultureInfo.InvariantCulture) ?? "-",
        Gid.ToString(CultureInfo.InvariantCulture),
        string.Join(',', Groups.Select(g => g.ToString(CultureInfo.InvariantCulture))),
    ];

    /// <summary>As <c>/v3/status</c> shows it: <c>user:group</c> as written.</summary>
    public override string ToString() => $"{User ?? ""}{(Group is null ? "" : ":" + Group)}";

    public bool Equals(RunAs? other) =>
        other is not null && User == other.User && Group == other.Group && Uid == other.Uid && Gid == other.Gid && Groups.SequenceEqual(other.Groups)
        && LoginName == other.LoginName && Home == other.Home;

    public override int GetHashCode() => HashCode.Combine(User, Group, Uid, Gid);
}

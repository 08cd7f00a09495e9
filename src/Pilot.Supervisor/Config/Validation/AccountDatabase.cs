using System.Globalization;

namespace Pilot.Supervisor.Config.Validation;

/// <summary>
/// The users and groups of <c>/etc/passwd</c> and <c>/etc/group</c> (what <c>getpwnam</c>/<c>getgrnam</c> read in a
/// container; NSS modules such as LDAP are not consulted). Parsed from text, so a test can give its own.
/// </summary>
internal sealed class AccountDatabase
{
    /// <summary>A line of /etc/passwd; <paramref name="Home"/> empty when the line has none.</summary>
    public sealed record UserEntry(string Name, int Uid, int Gid, string Home = "");

    public sealed record GroupEntry(string Name, int Gid, IReadOnlyList<string> Members);

    public AccountDatabase(string passwd, string group)
    {
        Users = [.. Lines(passwd).Where(f => f.Length >= 4 && IsId(f[2]) && IsId(f[3])).Select(f => new UserEntry(f[0], Id(f[2]), Id(f[3]), f.Length > 5 ? f[5] : ""))];
        Groups = [.. Lines(group).Where(f => f.Length >= 3 && IsId(f[2]))
            .Select(f => new GroupEntry(f[0], Id(f[2]), f.Length > 3 ? f[3].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : []))];
    }

    public IReadOnlyList<UserEntry> Users { get; }

    public IReadOnlyList<GroupEntry> Groups { get; }

    /// <summary>This machine's files, read now (a reload sees users added since); missing files are empty.</summary>
    public static AccountDatabase System() => new(ReadOrEmpty("/etc/passwd"), ReadOrEmpty("/etc/group"));

    public UserEntry? User(string name) => Users.FirstOrDefault(u => u.Name == name);

    public UserEntry? User(int uid) => Users.FirstOrDefault(u => u.Uid == uid);

    public GroupEntry? Group(string name) => Groups.FirstOrDefault(g => g.Name == name);

    /// <summary>initgroups: the groups listing <paramref name="user"/> as a member, and <paramref name="primary"/>.</summary>
    public IEnumerable<int> GroupsOf(string user, int primary) =>
        Groups.Where(g => g.Members.Contains(user, StringComparer.Ordinal)).Select(g => g.Gid).Prepend(primary).Distinct();

    public static bool IsId(string text) => uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id <= int.MaxValue;

    public static int Id(string text) => int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);

    private static IEnumerable<string[]> Lines(string text) =>
        text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).Select(l => l.Split(':'));

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }
}

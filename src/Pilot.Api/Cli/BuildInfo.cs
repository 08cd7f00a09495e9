using System.Reflection;

namespace Pilot.Api.Cli;

/// <summary>Version and git hash stamped at build time (<c>Version</c> and <c>SourceRevisionId</c> in Directory.Build.props).</summary>
public static class BuildInfo
{
    private static readonly string Informational =
        typeof(BuildInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>The version without the <c>+hash</c> suffix the SDK appends.</summary>
    public static string Version => Informational.Split('+')[0];

    public static string GitHash => Informational.Split('+') is [_, var hash, ..] ? hash : "unknown";
}

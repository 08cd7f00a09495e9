using Pilot.Supervisor.Config;
using Shouldly;

namespace Pilot.Supervisor.Tests.Config;

/// <summary>Loading a config from text in tests: the result, a config that must be valid, or the one error it must give.</summary>
internal static class ConfigText
{
    public static ConfigResult Load(string text, Dictionary<string, string>? env = null) =>
        ConfigLoader.Parse(text, env ?? new Dictionary<string, string>());

    public static PilotConfig Valid(string text, Dictionary<string, string>? env = null)
    {
        var result = Load(text, env);
        result.Errors.ShouldBeEmpty(string.Join("\n", result.Errors));
        return result.Config!;
    }

    public static ConfigError SingleError(string text)
    {
        var result = Load(text);
        result.IsValid.ShouldBeFalse();
        return result.Errors.ShouldHaveSingleItem(string.Join("\n", result.Errors));
    }
}

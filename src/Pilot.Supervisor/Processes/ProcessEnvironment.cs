using System.Collections;
using System.Collections.Concurrent;

namespace Pilot.Supervisor.Processes;

/// <summary>
/// Pilot's own environment, which every child inherits and every template render reads (v3 keeps <c>/v3/environ</c>
/// puts in its process environment). .NET cannot hold an empty variable (setting "" unsets it), so names put with an
/// empty value are remembered here and given to children and templates as empty.
/// </summary>
public static class ProcessEnvironment
{
    private static readonly ConcurrentDictionary<string, byte> Empty = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, byte> PutNames = new(StringComparer.Ordinal);

    /// <summary>
    /// Sets a variable an operator gave (<c>-putenv</c>, <c>POST /v3/environ</c>): it also wins over what a login would
    /// set for a job run as another user (see <see cref="WasPut"/>).
    /// </summary>
    public static void Put(string name, string? value)
    {
        PutNames[name] = 0;
        Set(name, value);
    }

    /// <summary>The variable was given by an operator (<see cref="Put"/>), not inherited or set by Pilot itself.</summary>
    public static bool WasPut(string name) => PutNames.ContainsKey(name);

    public static void Set(string name, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            Environment.SetEnvironmentVariable(name, null);
            if (value is not null)
            {
                Empty[name] = 0;
            }
            else
            {
                Empty.TryRemove(name, out _);
            }
            return;
        }
        Empty.TryRemove(name, out _);
        Environment.SetEnvironmentVariable(name, value);
    }

    /// <summary>Names that are set, but empty.</summary>
    public static IEnumerable<string> EmptyNames => Empty.Keys;

    /// <summary>The whole environment as a dictionary, empty variables included.</summary>
    public static Dictionary<string, string> Snapshot()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            result[(string)entry.Key] = (string?)entry.Value ?? "";
        }
        foreach (var name in Empty.Keys)
        {
            result.TryAdd(name, "");
        }
        return result;
    }
}

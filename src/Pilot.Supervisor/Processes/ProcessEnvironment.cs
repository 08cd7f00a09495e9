using System.Collections;
using System.Collections.Concurrent;

namespace Pilot.Supervisor.Processes;

/// <summary>
/// The environment every child inherits and every template render reads: Pilot's own at start, then what Pilot sets
/// (v3's <c>CONTAINERPILOT_&lt;JOB&gt;_PID</c>, <c>_IP</c>) and what operators put (<c>/v3/environ</c>, which v3 keeps in its
/// process environment). Kept here rather than in the runtime's environment, which every <c>Process.Start</c> copies
/// whole into a hashtable, a dictionary and one string per variable: with a variable per job that was most of what
/// starting a health check allocated at 400 jobs. An empty value is a value (the runtime's environment cannot hold one).
/// </summary>
/// <remarks>
/// In the Native AOT binary the variables are also kept as C strings (<see cref="ChildEnvironment"/>), which the
/// child execs with directly (docs/child-exec.md); <see cref="Gate"/> keeps them unchanged while a child is started.
/// </remarks>
public static class ProcessEnvironment
{
    private static readonly ConcurrentDictionary<string, byte> PutNames = new(StringComparer.Ordinal);
    // Read without the gate (a launch holds it while the child starts); written under it.
    private static readonly ConcurrentDictionary<string, string> Variables = Inherited();

    /// <summary>Held while a variable changes and while a child is started with the variables.</summary>
    internal static Lock Gate { get; } = new();

    /// <summary>The variables as C strings for the child, in the Native AOT binary; null elsewhere.</summary>
    internal static ChildEnvironment? Native { get; } = Processes.Native.ExecsInChild ? new ChildEnvironment(Variables) : null;

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

    /// <summary>Sets <paramref name="name"/> to <paramref name="value"/> ("" included); null removes it.</summary>
    public static void Set(string name, string? value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        lock (Gate)
        {
            if (value is null)
            {
                Variables.TryRemove(name, out _);
            }
            else
            {
                Variables[name] = value;
            }
            Native?.Set(name, value);
        }
    }

    /// <summary>The value of <paramref name="name"/>, or null when it is not set.</summary>
    public static string? Get(string name) => Variables.GetValueOrDefault(name);

    /// <summary>The whole environment as a dictionary, empty variables included.</summary>
    public static Dictionary<string, string> Snapshot()
    {
        lock (Gate)
        {
            return new Dictionary<string, string>(Variables, StringComparer.Ordinal);
        }
    }

    /// <summary>Copies every variable into <paramref name="target"/> (a child's start info, under JIT builds).</summary>
    internal static void CopyTo(IDictionary<string, string?> target)
    {
        lock (Gate)
        {
            foreach (var (name, value) in Variables)
            {
                target[name] = value;
            }
        }
    }

    private static ConcurrentDictionary<string, string> Inherited()
    {
        var variables = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            variables[(string)entry.Key] = (string?)entry.Value ?? "";
        }
        return variables;
    }
}

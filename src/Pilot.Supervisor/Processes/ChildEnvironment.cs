using System.Runtime.InteropServices;
using System.Text;

namespace Pilot.Supervisor.Processes;

/// <summary>
/// <see cref="ProcessEnvironment"/>'s variables as <c>NAME=VALUE</c> C strings, and the <c>envp</c> array a child
/// execs with: Native AOT's execve wrapper (main.c) swaps it in for the one-entry environment the launcher gives
/// <c>Process.Start</c> (<see cref="Marker"/>), so starting a child no longer copies and formats every variable. A
/// variable costs one allocation when it is set, none when a child starts. Every member runs under
/// <see cref="ProcessEnvironment.Gate"/>, which the launcher holds until the child has exec'd (its vfork child reads
/// these strings in Pilot's memory).
/// </summary>
internal sealed unsafe class ChildEnvironment
{
    /// <summary>The whole environment <c>Process.Start</c> gets; the wrapper execs with <see cref="Array"/> instead.</summary>
    public const string MarkerName = "PILOT_CHILD_ENVIRONMENT", MarkerValue = "1";

    private readonly Dictionary<string, nint> _strings = new(StringComparer.Ordinal);
    private nint* _array;
    private int _capacity;
    private bool _stale = true;

    public ChildEnvironment(IReadOnlyDictionary<string, string> variables)
    {
        foreach (var (name, value) in variables)
        {
            Set(name, value);
        }
    }

    public int Count => _strings.Count;

    public void Set(string name, string? value)
    {
        if (_strings.Remove(name, out var old))
        {
            NativeMemory.Free((void*)old);
        }
        if (value is not null)
        {
            _strings[name] = Entry(name, value);
        }
        _stale = true;
    }

    /// <summary>
    /// The NULL-terminated <c>envp</c> for one child: every variable, with <paramref name="overrides"/> (the job's own,
    /// a login's) in place of the same names. Strings made for the overrides go to <paramref name="made"/>, for the
    /// caller to <see cref="Free"/> once the child has exec'd. Valid until the next call or <see cref="Set"/>.
    /// </summary>
    public nint Array(IReadOnlyDictionary<string, string>? overrides, List<nint> made)
    {
        var hasOverrides = overrides is { Count: > 0 };
        if (!_stale && !hasOverrides)
        {
            return (nint)_array;
        }
        Reserve(_strings.Count + (overrides?.Count ?? 0) + 1);
        var count = 0;
        foreach (var (name, entry) in _strings)
        {
            if (!hasOverrides || !overrides!.ContainsKey(name))
            {
                _array[count++] = entry;
            }
        }
        if (hasOverrides)
        {
            foreach (var (name, value) in overrides!)
            {
                var entry = Entry(name, value);
                made.Add(entry);
                _array[count++] = entry;
            }
        }
        _array[count] = 0;
        // An array with overrides in it is one child's; the next child without any rebuilds it.
        _stale = hasOverrides;
        return (nint)_array;
    }

    public static void Free(List<nint> made)
    {
        foreach (var entry in made)
        {
            NativeMemory.Free((void*)entry);
        }
        made.Clear();
    }

    private void Reserve(int length)
    {
        if (length > _capacity)
        {
            var capacity = Math.Max(length, _capacity * 2);
            _array = (nint*)NativeMemory.Realloc(_array, (nuint)(capacity * sizeof(nint)));
            _capacity = capacity;
        }
    }

    private static nint Entry(string name, string value)
    {
        var length = Encoding.UTF8.GetByteCount(name) + 1 + Encoding.UTF8.GetByteCount(value);
        var entry = (byte*)NativeMemory.Alloc((nuint)length + 1);
        var bytes = new Span<byte>(entry, length + 1);
        var written = Encoding.UTF8.GetBytes(name, bytes);
        bytes[written++] = (byte)'=';
        written += Encoding.UTF8.GetBytes(value, bytes[written..]);
        bytes[written] = 0;
        return (nint)entry;
    }
}

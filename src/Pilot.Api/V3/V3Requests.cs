using System.Globalization;
using System.Text.Json;
using FluentValidation;

namespace Pilot.Api.V3;

/// <summary>A JSON object body as received: each key with its raw value, in order (a repeated key: the last wins later).</summary>
public abstract record ObjectBody(IReadOnlyList<KeyValuePair<string, JsonElement>> Entries);

/// <summary>Body of <c>POST /v3/environ</c>: string or <c>null</c> values.</summary>
public sealed record EnvironmentBody(IReadOnlyList<KeyValuePair<string, JsonElement>> Entries) : ObjectBody(Entries)
{
    /// <summary>The variables to set; <c>null</c> sets an empty value, as v3 does. Call after validation.</summary>
    public Dictionary<string, string> ToVariables()
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in Entries)
        {
            variables[name] = value.ValueKind == JsonValueKind.Null ? "" : value.GetString()!;
        }
        return variables;
    }
}

/// <summary>Body of <c>POST /v3/metric</c>: numbers (v3's own client sends numbers as strings, so numeric strings count).</summary>
public sealed record MetricBody(IReadOnlyList<KeyValuePair<string, JsonElement>> Entries) : ObjectBody(Entries)
{
    /// <summary>The strings <see cref="TryReadValue"/> reads as a number (invariant <c>NumberStyles.Float</c>), for the document.</summary>
    public const string NumericString = @"^\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$";

    /// <summary>The values to apply. Call after validation.</summary>
    public Dictionary<string, double> ToValues()
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (name, value) in Entries)
        {
            values[name] = TryReadValue(value, out var number) ? number : double.NaN;
        }
        return values;
    }

    public static bool TryReadValue(JsonElement value, out double number)
    {
        number = 0;
        var parsed = value.ValueKind switch
        {
            JsonValueKind.Number => value.TryGetDouble(out number),
            JsonValueKind.String => double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out number),
            _ => false,
        };
        return parsed && double.IsFinite(number);
    }
}

/// <summary>Environment variable names the kernel and libc accept: non-empty, no <c>=</c>, no NUL. Values: string or null.</summary>
public sealed class EnvironmentBodyValidator : AbstractValidator<EnvironmentBody>
{
    public EnvironmentBodyValidator()
    {
        RuleForEach(b => b.Entries).Custom((entry, context) =>
        {
            var (name, value) = entry;
            if (name.Length == 0)
            {
                context.AddFailure(name, "an environment variable name cannot be empty");
            }
            else if (name.Contains('=', StringComparison.Ordinal) || name.Contains('\0', StringComparison.Ordinal))
            {
                context.AddFailure(name, $"\"{Printable(name)}\" is not a valid environment variable name: it contains '=' or NUL");
            }
            if (value.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
            {
                context.AddFailure(name, $"the value of \"{Printable(name)}\" must be a string or null, not {Describe(value)}");
            }
            else if (value.ValueKind == JsonValueKind.String && value.GetString()!.Contains('\0', StringComparison.Ordinal))
            {
                context.AddFailure(name, $"the value of \"{Printable(name)}\" contains NUL");
            }
        });
    }

    internal static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    internal static string Printable(string text) => text.Replace("\0", "\\u0000", StringComparison.Ordinal);
}

/// <summary>Metric keys are non-empty; values are finite numbers or numeric strings. Names are checked by the supervisor.</summary>
public sealed class MetricBodyValidator : AbstractValidator<MetricBody>
{
    public MetricBodyValidator()
    {
        RuleForEach(b => b.Entries).Custom((entry, context) =>
        {
            var (name, value) = entry;
            if (name.Length == 0)
            {
                context.AddFailure(name, "a metric name cannot be empty");
            }
            if (!MetricBody.TryReadValue(value, out _))
            {
                var what = value.ValueKind == JsonValueKind.String
                    ? $"\"{EnvironmentBodyValidator.Printable(value.GetString()!)}\""
                    : EnvironmentBodyValidator.Describe(value);
                context.AddFailure(name, $"the value of metric \"{EnvironmentBodyValidator.Printable(name)}\" must be a finite number, not {what}");
            }
        });
    }
}

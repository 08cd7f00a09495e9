using System.Net;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pilot.Api.Tests.Support;
using Shouldly;
using Xunit;

namespace Pilot.Api.Tests.Control;

public sealed class OpenApiDocumentTests
{
    private const string CheckedInPath = "openapi/pilot.v3.json";

    [Fact]
    public async Task OpenApiDocument_MatchesCheckedInFile()
    {
        await using var host = await ControlPlaneHost.StartAsync();

        using var response = await host.Client.GetAsync("/openapi/v3.json", host.Token);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var served = Normalize(await response.Content.ReadAsStringAsync(host.Token));

        var file = Path.Combine(Checkout.Root, CheckedInPath);
        if (Environment.GetEnvironmentVariable("PILOT_UPDATE_OPENAPI") == "1")
        {
            await File.WriteAllTextAsync(file, served, host.Token);
        }
        var checkedIn = File.Exists(file) ? Normalize(await File.ReadAllTextAsync(file, host.Token)) : "";
        if (served != checkedIn)
        {
            var servedLines = served.Split('\n');
            var fileLines = checkedIn.Split('\n');
            var at = Enumerable.Range(0, Math.Min(servedLines.Length, fileLines.Length)).FirstOrDefault(i => servedLines[i] != fileLines[i]);
            Assert.Fail(
                $"The served OpenAPI document differs from {CheckedInPath} at line {at + 1}:\n"
                + $"  served:     {servedLines.ElementAtOrDefault(at)}\n  checked in: {fileLines.ElementAtOrDefault(at)}\n"
                + "If the change is intended, regenerate the file with `PILOT_UPDATE_OPENAPI=1 dotnet test tests/Pilot.Api.Tests` and commit it.");
        }
    }

    [Fact]
    public async Task OpenApiDocument_DescribesEveryEndpointWithSummaryAndExamples()
    {
        await using var host = await ControlPlaneHost.StartAsync();

        using var response = await host.Client.GetAsync("/openapi/v3.json", host.Token);
        var document = JsonNode.Parse(await response.Content.ReadAsStringAsync(host.Token))!;

        var paths = document["paths"]!.AsObject();
        paths.Select(p => p.Key).ShouldBe(
            ["/v3/environ", "/v3/env", "/v3/reload", "/v3/maintenance/enable", "/v3/maintenance/disable",
             "/v3/metric", "/v3/ping", "/v3/status", "/v3/jobs/{name}", "/v3/jobs/{name}/stop", "/v3/jobs/{name}/start",
             "/v3/jobs/{name}/restart", "/v3/jobs/{name}/logs", "/v3/events"], ignoreOrder: true);
        foreach (var (path, item) in paths)
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                operation!["summary"]?.GetValue<string>().ShouldNotBeNullOrEmpty($"{method} {path} has no summary");
                var ok = operation["responses"]!["200"]!["content"]!.AsObject().First().Value!;
                ok["example"].ShouldNotBeNull($"{method} {path} has no 200 example");
            }
        }
        paths["/v3/environ"]!["post"]!["requestBody"]!["content"]!["application/json"]!["example"].ShouldNotBeNull();
        paths["/v3/environ"]!["post"]!["responses"]!["422"].ShouldNotBeNull();
        document["components"]!["schemas"]!["ProblemResponse"].ShouldNotBeNull();
    }

    [Fact]
    public async Task OpenApiDocument_SaysWhatTheServerAccepts_AndServesRelativeToItsOrigin()
    {
        await using var host = await ControlPlaneHost.StartAsync();

        using var response = await host.Client.GetAsync("/openapi/v3.json", host.Token);
        var document = JsonNode.Parse(await response.Content.ReadAsStringAsync(host.Token))!;

        // "Try it out" in a browser calls the origin that served the page, whatever it is.
        document["servers"]!.AsArray().Single()!["url"]!.GetValue<string>().ShouldBe("/");
        string[] Types(JsonNode? schema) => schema!["type"] is JsonArray many ? [.. many.Select(t => t!.GetValue<string>())] : [schema["type"]!.GetValue<string>()];
        var environ = document["paths"]!["/v3/environ"]!["post"]!["requestBody"]!["content"]!["application/json"]!["schema"]!;
        Types(environ).ShouldBe(["null", "object"], ignoreOrder: true, "a literal null body is a no-op, as in v3");
        Types(environ["additionalProperties"]).ShouldBe(["null", "string"], ignoreOrder: true, "a null value sets an empty value");
        var metric = document["paths"]!["/v3/metric"]!["post"]!["requestBody"]!["content"]!["application/json"]!["schema"]!;
        Types(metric["additionalProperties"]).ShouldBe(["number", "string"], ignoreOrder: true, "v3's client sends numbers as strings");
        // Integers go out as numbers only (the web default would document `integer | string`).
        Types(document["components"]!["schemas"]!["JobResponse"]!["properties"]!["restarts"]).ShouldBe(["integer"]);
    }

    [Fact]
    public async Task SwaggerUi_IsServedOnlyInDevelopment()
    {
        await using var production = await ControlPlaneHost.StartAsync();
        await using var development = await ControlPlaneHost.StartAsync(environmentName: "Development");

        using var inProduction = await production.Client.GetAsync("/swagger/index.html", production.Token);
        using var inDevelopment = await development.Client.GetAsync("/swagger/index.html", development.Token);

        inProduction.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        inDevelopment.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await inDevelopment.Content.ReadAsStringAsync(development.Token)).ShouldContain("swagger");
    }

    private static string Normalize(string json) =>
        JsonNode.Parse(json)!.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }).ReplaceLineEndings("\n") + "\n";

}

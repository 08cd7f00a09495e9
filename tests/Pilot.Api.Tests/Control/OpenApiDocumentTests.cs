using System.Net;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging.Abstractions;
using Pilot.Api.Cli;
using Pilot.Api.Control;
using Pilot.Api.Tests.Support;
using Pilot.Supervisor.Config;
using Shouldly;
using Xunit;

namespace Pilot.Api.Tests.Control;

public sealed class OpenApiDocumentTests
{
    private const string CheckedInPath = "openapi/pilot.v3.json";

    /// <summary>
    /// The file comes from the code: the handlers' minimal-API description, run through Microsoft.AspNetCore.OpenApi.
    /// With <c>PILOT_UPDATE_OPENAPI=1</c> this test rewrites the file (the binary embeds it at build time).
    /// </summary>
    [Fact]
    public async Task OpenApiDocument_GeneratedFromTheCode_MatchesCheckedInFile()
    {
        using var directory = new TempDirectory();
        using var timeout = ControlPlaneHost.CreateTimeout();
        using var listener = ControlListener.Bind(new ControlConfig { SocketPath = directory.File("documentation.sock") });
        await using var documentation = ControlPlaneDocumentation.Build(listener);
        await documentation.StartAsync(timeout.Token);
        using var client = ControlClient.CreateHttpClient(listener.SocketPath);

        var generated = Normalize(await client.GetStringAsync("/openapi/v3.json", timeout.Token));
        await documentation.StopAsync(timeout.Token);

        var file = Path.Combine(Checkout.Root, CheckedInPath);
        if (Environment.GetEnvironmentVariable("PILOT_UPDATE_OPENAPI") == "1")
        {
            await File.WriteAllTextAsync(file, generated, timeout.Token);
        }
        AssertSameDocument(generated, "generated from the code",
            "If the change is intended, regenerate the file with `PILOT_UPDATE_OPENAPI=1 dotnet test tests/Pilot.Api.Tests "
            + "--filter OpenApiDocument_GeneratedFromTheCode`, commit it and rebuild (the binary embeds it).");
    }

    [Fact]
    public async Task OpenApiDocument_ServedByTheControlPlane_IsTheCheckedInFile()
    {
        await using var host = await ControlPlaneHost.StartAsync();

        using var response = await host.Client.GetAsync("/openapi/v3.json", host.Token);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/json");

        AssertSameDocument(Normalize(await response.Content.ReadAsStringAsync(host.Token)), "served",
            "The binary embeds openapi/pilot.v3.json at build time: rebuild after changing it.");
    }

    /// <summary>
    /// What serves the socket is what the document describes: every endpoint of the served application (its method, its
    /// route and its query parameters) is in the document, and nothing else is.
    /// </summary>
    [Fact]
    public async Task ServedEndpoints_MatchTheOpenApiDocument()
    {
        var document = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(Checkout.Root, CheckedInPath), TestContext.Current.CancellationToken))!;
        var documented = document["paths"]!.AsObject()
            .SelectMany(path => path.Value!.AsObject().Select(operation =>
                $"{operation.Key.ToUpperInvariant()} {path.Key} "
                + string.Join(",", (operation.Value!["parameters"]?.AsArray() ?? []).Where(p => p!["in"]!.GetValue<string>() == "query").Select(p => p!["name"]!.GetValue<string>()))));

        await using var application = ControlApplication.Build(
            new ControlPlaneOptions { Supervisor = new FakeSupervisorControl() }, NullLogger.Instance, CancellationToken.None);
        var served = application.Endpoints.Endpoints.OfType<RouteEndpoint>()
            .Where(endpoint => endpoint.RoutePattern.RawText != ControlApplication.OpenApiTemplate)
            // ping answers every method; its GET is the documented one.
            .Where(endpoint => endpoint.Metadata.GetMetadata<IHttpMethodMetadata>() is { HttpMethods.Count: > 0 })
            .Select(endpoint =>
                $"{endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods.Single()} {endpoint.RoutePattern.RawText} "
                + string.Join(",", endpoint.Metadata.OfType<IParameterBindingMetadata>()
                    .Where(p => endpoint.RoutePattern.GetParameter(p.Name) is null && IsQueryValue(p.ParameterInfo))
                    .Select(p => p.Name)));

        served.ShouldBe(documented, ignoreOrder: true);
    }

    /// <summary>A parameter minimal APIs bind from the query: not a service, not the request, not the token.</summary>
    private static bool IsQueryValue(System.Reflection.ParameterInfo parameter) =>
        parameter.GetCustomAttributes(typeof(Microsoft.AspNetCore.Mvc.FromServicesAttribute), false).Length == 0
        && (Nullable.GetUnderlyingType(parameter.ParameterType) ?? parameter.ParameterType) is var type
        && (type == typeof(string) || type.IsPrimitive);

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
             "/v3/jobs/{name}/restart", "/v3/jobs/{name}/logs", "/v3/graph", "/v3/jobs/{name}/why", "/v3/events"], ignoreOrder: true);
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

    private static void AssertSameDocument(string document, string what, string advice)
    {
        var file = Path.Combine(Checkout.Root, CheckedInPath);
        var checkedIn = File.Exists(file) ? Normalize(File.ReadAllText(file)) : "";
        if (document != checkedIn)
        {
            var lines = document.Split('\n');
            var fileLines = checkedIn.Split('\n');
            var at = Enumerable.Range(0, Math.Min(lines.Length, fileLines.Length)).FirstOrDefault(i => lines[i] != fileLines[i]);
            Assert.Fail(
                $"The OpenAPI document {what} differs from {CheckedInPath} at line {at + 1}:\n"
                + $"  {what}: {lines.ElementAtOrDefault(at)}\n  checked in: {fileLines.ElementAtOrDefault(at)}\n{advice}");
        }
    }

    private static string Normalize(string json) =>
        JsonNode.Parse(json)!.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }).ReplaceLineEndings("\n") + "\n";

}

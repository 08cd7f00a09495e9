using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Pilot.Supervisor.Config.Json5;

/// <summary>
/// A parsed config as one line of JSON, for v3's debug line <c>loaded config: &lt;json&gt;</c>. The consul token is
/// redacted: a debug log is not where an ACL secret belongs (v3 printed its consul section as <c>{}</c>).
/// </summary>
public static class Json5Json
{
    public static string Write(Json5Node root)
    {
        ArgumentNullException.ThrowIfNull(root);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            Write(writer, root, path: "");
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Write(Utf8JsonWriter writer, Json5Node node, string path)
    {
        switch (node)
        {
            case Json5Object obj:
                writer.WriteStartObject();
                foreach (var property in obj.Properties)
                {
                    writer.WritePropertyName(property.Key);
                    var childPath = path.Length == 0 ? property.Key : path + "." + property.Key;
                    if (string.Equals(childPath, "consul.token", StringComparison.OrdinalIgnoreCase) && property.Value is Json5String { Value.Length: > 0 })
                    {
                        writer.WriteStringValue("<redacted>");
                        continue;
                    }
                    Write(writer, property.Value, childPath);
                }
                writer.WriteEndObject();
                break;
            case Json5Array array:
                writer.WriteStartArray();
                foreach (var item in array.Items)
                {
                    Write(writer, item, path + "[]");
                }
                writer.WriteEndArray();
                break;
            case Json5String s:
                writer.WriteStringValue(s.Value);
                break;
            case Json5Number n when double.IsFinite(n.Value):
                writer.WriteNumberValue(n.Value);
                break;
            case Json5Number n:
                writer.WriteStringValue(n.GoFormat());
                break;
            case Json5Bool b:
                writer.WriteBooleanValue(b.Value);
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }
}

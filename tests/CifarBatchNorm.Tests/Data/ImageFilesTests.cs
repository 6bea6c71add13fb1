using CifarBatchNorm.Data;
using CifarBatchNorm.Tests.Support;
using SkiaSharp;

namespace CifarBatchNorm.Tests.Data;

/// <summary>Image files decoded, resized and scaled as training scales pixels (/255).</summary>
public sealed class ImageFilesTests
{
    internal static void WritePng(string path, int width, int height, Func<int, int, SKColor> color)
    {
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                bitmap.SetPixel(x, y, color(x, y));
            }
        }

        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }

    [Fact]
    public void Png_at_the_model_size_gives_pixels_over_255_in_channel_major_order()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("a.png");
        WritePng(path, 3, 2, (x, y) => new SKColor((byte)(x * 50), (byte)(y * 100), 7));
        float[] pixels = ImageFiles.Load(path, new ImageShape(2, 3, 3));
        Assert.Equal(18, pixels.Length);
        Assert.Equal(100 / 255f, pixels[2]);           // R at (y 0, x 2)
        Assert.Equal(100 / 255f, pixels[6 + 3]);       // G at (y 1, x 0)
        Assert.Equal(7 / 255f, pixels[12 + 5]);        // B at (y 1, x 2)
    }

    [Fact]
    public void Larger_images_are_resized_and_gray_models_get_luminance()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("big.png");
        WritePng(path, 64, 48, (_, _) => new SKColor(200, 100, 50));
        float[] rgb = ImageFiles.Load(path, new ImageShape(32, 32, 3));
        Assert.All(rgb[..1024], v => Assert.Equal(200 / 255f, v));
        float[] gray = ImageFiles.Load(path, new ImageShape(28, 28, 1));
        Assert.All(gray, v => Assert.Equal((((200 * 299) + (100 * 587) + (50 * 114)) / 1000) / 255f, v));
    }

    [Fact]
    public void Folders_expand_to_their_images_and_non_images_are_one_clear_error()
    {
        using var dir = new TempDirectory();
        WritePng(dir.Combine("b.png"), 4, 4, (_, _) => SKColors.Red);
        WritePng(dir.Combine("a.png"), 4, 4, (_, _) => SKColors.Blue);
        File.WriteAllText(dir.Combine("notes.txt"), "x");
        File.WriteAllText(dir.Combine("fake.jpg"), "not a jpeg");
        var files = ImageFiles.Expand([dir.Path]);
        Assert.Equal(["a.png", "b.png", "fake.jpg"], files.Select(Path.GetFileName));
        var e = Assert.Throws<DataFormatException>(() => ImageFiles.Load(dir.Combine("fake.jpg"), ImageShape.Cifar10));
        Assert.Contains("fake.jpg is not an image", e.Message);
    }

    [Fact]
    public void An_image_that_announces_a_huge_size_is_refused_before_it_is_decoded()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("bomb.png");
        // A 65-byte PNG whose header announces 100,000 x 100,000 pixels (40 GB decoded).
        static byte[] Chunk(string type, byte[] data)
        {
            byte[] typed = [.. System.Text.Encoding.ASCII.GetBytes(type), .. data];
            uint crc = 0xFFFFFFFF;
            foreach (byte b in typed)
            {
                crc ^= b;
                for (int k = 0; k < 8; k++)
                {
                    crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
                }
            }

            crc ^= 0xFFFFFFFF;
            return [.. BigEndian((uint)data.Length), .. typed, .. BigEndian(crc)];
        }

        static byte[] BigEndian(uint v) => [(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v];
        byte[] header = [.. BigEndian(100_000), .. BigEndian(100_000), 8, 6, 0, 0, 0];
        byte[] emptyDeflate = [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01];
        File.WriteAllBytes(path, [0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10, .. Chunk("IHDR", header), .. Chunk("IDAT", emptyDeflate), .. Chunk("IEND", [])]);

        var e = Assert.Throws<DataFormatException>(() => ImageFiles.Load(path, ImageShape.Cifar10));

        Assert.Equal($"{path} is 100,000x100,000 pixels; images of up to 50 megapixels are read (resize it first).", e.Message);
    }
}

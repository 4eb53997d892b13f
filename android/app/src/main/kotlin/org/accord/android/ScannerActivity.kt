package org.accord.android

import android.Manifest
import android.app.Activity
import android.content.Context
import android.content.Intent
import android.content.pm.PackageManager
import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.result.contract.ActivityResultContract
import androidx.activity.result.contract.ActivityResultContracts
import androidx.camera.core.CameraSelector
import androidx.camera.core.ImageAnalysis
import androidx.camera.core.Preview
import androidx.camera.lifecycle.ProcessCameraProvider
import androidx.camera.view.PreviewView
import androidx.core.content.ContextCompat
import com.google.zxing.BarcodeFormat
import com.google.zxing.BinaryBitmap
import com.google.zxing.DecodeHintType
import com.google.zxing.MultiFormatReader
import com.google.zxing.NotFoundException
import com.google.zxing.PlanarYUVLuminanceSource
import com.google.zxing.common.HybridBinarizer
import java.util.concurrent.Executors

/**
 * Scans a ticket's QR code with CameraX and zxing (no Google Play services, nothing leaves the
 * phone) and returns its text.
 */
class ScannerActivity : ComponentActivity() {
    private val analysis = Executors.newSingleThreadExecutor()
    private val reader = MultiFormatReader().apply {
        setHints(mapOf(DecodeHintType.POSSIBLE_FORMATS to listOf(BarcodeFormat.QR_CODE)))
    }
    private val askCamera = registerForActivityResult(ActivityResultContracts.RequestPermission()) { granted ->
        if (granted) start() else finish()
    }
    private lateinit var preview: PreviewView

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        preview = PreviewView(this).apply { contentDescription = "Camera: point it at the ticket's QR code" }
        setContentView(preview)
        if (ContextCompat.checkSelfPermission(this, Manifest.permission.CAMERA) == PackageManager.PERMISSION_GRANTED) {
            start()
        } else {
            askCamera.launch(Manifest.permission.CAMERA)
        }
    }

    override fun onDestroy() {
        analysis.shutdown()
        super.onDestroy()
    }

    private fun start() {
        val future = ProcessCameraProvider.getInstance(this)
        future.addListener({
            val provider = future.get()
            val shown = Preview.Builder().build().also { it.surfaceProvider = preview.surfaceProvider }
            val scan = ImageAnalysis.Builder()
                .setBackpressureStrategy(ImageAnalysis.STRATEGY_KEEP_ONLY_LATEST)
                .build()
            scan.setAnalyzer(analysis) { image ->
                image.use {
                    val plane = it.planes[0]
                    val bytes = ByteArray(plane.buffer.remaining()).also { b -> plane.buffer.get(b) }
                    val source = PlanarYUVLuminanceSource(bytes, plane.rowStride, it.height, 0, 0, it.width, it.height, false)
                    try {
                        val text = reader.decodeWithState(BinaryBitmap(HybridBinarizer(source))).text
                        if (text.startsWith("accord1")) {
                            setResult(Activity.RESULT_OK, Intent().putExtra(TICKET, text))
                            finish()
                        }
                    } catch (_: NotFoundException) {
                        // No code in this frame.
                    } finally {
                        reader.reset()
                    }
                }
            }
            provider.unbindAll()
            provider.bindToLifecycle(this, CameraSelector.DEFAULT_BACK_CAMERA, shown, scan)
        }, ContextCompat.getMainExecutor(this))
    }

    /** Starts the scanner; the result is the ticket's text, or null when cancelled. */
    class Contract : ActivityResultContract<Unit, String?>() {
        override fun createIntent(context: Context, input: Unit) = Intent(context, ScannerActivity::class.java)
        override fun parseResult(resultCode: Int, intent: Intent?) =
            intent?.getStringExtra(TICKET)?.takeIf { resultCode == Activity.RESULT_OK }
    }

    companion object {
        private const val TICKET = "ticket"
    }
}

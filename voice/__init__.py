"""Voice in and out: recognition (voice.asr), synthesis (voice.tts), the prompt library and speech
assembly (voice.prompts, voice.speech), audio plumbing (voice.codecs, voice.vad) and the app's
async façade (voice.service.VoiceService)."""

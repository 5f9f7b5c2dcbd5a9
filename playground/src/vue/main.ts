import { createApp } from 'vue';
import '../shared/styles.css';
import { openPlaygroundPage } from '../shared/playground';
import App from './App.vue';

createApp(App, { page: openPlaygroundPage() }).mount('#app');
